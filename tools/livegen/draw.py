"""Fonts and small drawing helpers shared by the package, overlay and card renderers."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFont

_FONT_FALLBACKS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/DejaVuSans-Bold.ttf",
)


def find_font(pattern: str = "DejaVu Sans:style=Bold", fallbacks: Sequence[str] = _FONT_FALLBACKS) -> Path:
    """Locate a TTF by fontconfig pattern (``fc-match``), else by known paths.

    Raises FileNotFoundError naming the Debian package when nothing is found.
    """
    if shutil.which("fc-match"):
        res = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True)
        path = Path(res.stdout.strip())
        wanted = pattern.split(":")[0].replace(" ", "").lower()
        if res.returncode == 0 and path.is_file() and wanted in path.name.lower().replace(" ", ""):
            return path
    for candidate in fallbacks:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(f"no font for {pattern!r}: install it (apt-get install -y fonts-dejavu-core)")


def fit_font(font_path: Path, text: str, max_width: int, size: int, min_size: int = 8) -> ImageFont.FreeTypeFont:
    """The largest font not above ``size`` whose rendering of ``text`` fits in ``max_width``."""
    while size > min_size:
        font = ImageFont.truetype(str(font_path), size)
        if font.getlength(text) <= max_width:
            return font
        size -= 1
    return ImageFont.truetype(str(font_path), min_size)


def vertical_gradient(h: int, w: int, top: Sequence[int], bottom: Sequence[int]) -> np.ndarray:
    """(h, w, 3) float32 gradient from ``top`` to ``bottom`` (same channel order as given)."""
    a = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top_ = np.asarray(top, np.float32)[None, None, :]
    bottom_ = np.asarray(bottom, np.float32)[None, None, :]
    return np.broadcast_to(top_ * (1 - a) + bottom_ * a, (h, w, 3)).copy()


def alpha_over(dst: np.ndarray, rgba: np.ndarray, x: int, y: int) -> None:
    """Composite a straight-alpha BGRA image onto ``dst`` (uint8 or float32 BGR) in place, top-left at (x, y)."""
    h, w = rgba.shape[:2]
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return
    src = rgba[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    a = src[..., 3:4] / 255.0
    region = dst[y0:y1, x0:x1].astype(np.float32)
    out = src[..., :3] * a + region * (1.0 - a)
    dst[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(dst.dtype) if dst.dtype == np.uint8 else out


def pil_rgba_to_bgra(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img.convert("RGBA"))
    return arr[..., [2, 1, 0, 3]].copy()


def smoothstep(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


