"""Packaging layout families of the benchmark generator (tools/livegen/layouts.py, issue 14): a fixed
split into tuned and held-out families, each family legible to the real OCR in both languages, the
family named in the truth, and the default benchmark unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from livegen import layouts
from livegen.benchmark import clip_recipe
from livegen.draw import find_font
from livegen.products import make_product
from livegen.render import accent_bands, render_package

from edge.config.models import OcrConfig
from edge.fusion.text import tokens
from edge.types import Frame

CJK_FONT = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",)


def test_the_split_is_fixed_disjoint_and_covers_every_family():
    assert len(layouts.FAMILIES) >= 6 and len(set(layouts.FAMILIES)) == len(layouts.FAMILIES)
    assert not set(layouts.TUNED) & set(layouts.HELD_OUT) and set(layouts.TUNED) | set(layouts.HELD_OUT) == set(layouts.FAMILIES)
    assert "classic" in layouts.TUNED  # the family of every earlier benchmark was tuned on
    assert layouts.expand("held-out") == layouts.HELD_OUT and layouts.expand("logo, stacked") == ("logo", "stacked")
    with pytest.raises(ValueError, match="unknown layout family"):
        layouts.expand("logo,poster")


def test_the_default_benchmark_is_the_same_and_families_change_only_the_pack():
    for index in range(30):
        default = clip_recipe(0, index)
        assert default == clip_recipe(0, index, layouts=("classic",)) and default.product.layout == "classic"
        other = clip_recipe(0, index, layouts=layouts.HELD_OUT)
        assert other.product.layout in layouts.HELD_OUT
        same = dataclasses.replace(other, product=default.product)
        assert same == default  # timeline, room, motion, audio: the same clip around another pack
        assert (other.product.brand, other.product.product_name, other.product.price) == (
            default.product.brand, default.product.product_name, default.product.price)
    seen = {clip_recipe(2, i, layouts=layouts.FAMILIES).truth_extra()["layout"] for i in range(100)}
    assert seen == set(layouts.FAMILIES)


@pytest.fixture(scope="module")
def reader():
    from edge.ocr import create_reader

    return create_reader(OcrConfig(), 2)


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("family", layouts.FAMILIES)
def test_each_family_prints_brand_and_name_legibly(reader, family, language):
    """The real OCR reads the brand (as styled) and most of the name off a frontal pack of every family."""
    font = find_font() if language == "en" else find_font("Noto Sans CJK SC:style=Bold", CJK_FONT)
    hits = 0
    for seed in range(3):
        product = make_product(np.random.default_rng(seed), language, (280, 360), family, np.random.default_rng(seed + 50))
        image = render_package(product, font).image
        alpha = image[..., 3:4] / 255.0
        bgr = np.ascontiguousarray((image[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8))
        read = " ".join(line.text for line in reader.read(Frame(0, 0.0, bgr), None))
        brand = set(tokens(product.printed_brand or product.brand))
        name = set(tokens(product.product_name))
        squashed = "".join(tokens(read))
        brand_ok = brand <= set(tokens(read)) or "".join(tokens(product.brand)) in squashed
        hits += brand_ok and len(name & set(tokens(read))) >= 0.7 * len(name)
    assert hits >= 2, (family, language, read)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("family", [f for f in layouts.FAMILIES if f != "classic"])
def test_no_accent_band_strikes_through_text(language, family):
    """The accent bands run clear of every printed line, at the face sizes the benchmark draws (vertical and
    horizontal rooms, squat and tall faces): a band through a brand is a pack no OCR should be asked to read."""
    font = find_font() if language == "en" else find_font("Noto Sans CJK SC:style=Bold", CJK_FONT)
    for seed, size in enumerate([(132, 178), (162, 178), (200, 270), (240, 260), (280, 360)]):
        product = make_product(np.random.default_rng(seed), language, size, family, np.random.default_rng(seed + 9))
        blank = dataclasses.replace(product, brand=" ", printed_brand=" ", name_lines=(" ",), spec_text=" ", tagline="",
                                    claim=" ", other_name=" ")
        drawn = render_package(product, font, margin=0).image[..., :3].astype(int)
        bare = render_package(blank, font, margin=0).image[..., :3].astype(int)
        ink = np.abs(drawn - bare).max(axis=2) > 40
        for first, last in accent_bands(size[1], family):
            assert not ink[first - 1:last + 2, 14:size[0] - 15].any(), (family, size, first)
