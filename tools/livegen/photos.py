"""Real product photographs as package faces: what a drawn pack cannot show (print, photo, wear).

A photo is known by its file name; the catalogue says what product it shows, as a person reading the
pack would record it. Debian's ``opencv-doc`` ships ``box.png``, a grey photograph of a box of Pan Ducale
almond cookies (``apt-get download opencv-doc``; ``tools/real_photo.py`` says how to unpack the file).
Clips with a photo are family ``photo`` in the truth; they are reported on their own, never tuned on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livegen.render import ProductSpec

FAMILY = "photo"


@dataclass(frozen=True)
class Photo:
    """What a photographed pack shows, and how a host would present it."""

    brand: str
    product_name: str
    category: str  # the catalogue's category (livegen.products.LINES)
    product_type: str
    department: str  # Google product taxonomy path
    spec: str
    spoken_spec: str
    prices: tuple[int, int]


CATALOGUE = {
    "box.png": Photo(
        brand="PAN DUCALE", product_name="Bastoncini", category="Food & beverage", product_type="Cookies",
        department="Food, Beverages & Tobacco > Food Items > Bakery > Cookies", spec="250 g", spoken_spec="two hundred fifty grams",
        prices=(29, 69),
    ),
}


def available(folder: Path) -> list[Path]:
    """The catalogued photos present in ``folder``, in catalogue order; an error names what is missing."""
    found = [folder / name for name in CATALOGUE if (folder / name).is_file()]
    if not found:
        raise FileNotFoundError(f"{folder}: none of the catalogued product photos ({', '.join(CATALOGUE)}) is there")
    return found


def aspect(path: Path) -> float:
    """Width over height of the photo."""
    from PIL import Image

    with Image.open(path) as img:
        return img.width / img.height


def photo_product(path: Path, rng: np.random.Generator, package_size: tuple[int, int]) -> ProductSpec:
    """The product a photo shows, English packaging and speech, at ``package_size`` (the photo's aspect)."""
    photo = CATALOGUE[path.name]
    price = int(rng.integers(photo.prices[0], photo.prices[1] + 1))
    speech = (f"Hi everyone! Today I'm showing you the {photo.brand.title()} {photo.product_name}, crisp almond "
              f"{photo.product_type.lower()}, {photo.spoken_spec}, only {price} yuan.")
    return ProductSpec(
        brand=photo.brand, product_name=photo.product_name, category=photo.category, key_attributes={"spec": photo.spec},
        price=f"¥{price}", speech=speech, name_lines=(photo.product_name,), spec_text=photo.spec, package_size=package_size,
        layout=FAMILY, product_type=photo.product_type, department=photo.department, photo=str(path),
    )
