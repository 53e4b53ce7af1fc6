"""Products: the demo's, and the benchmark catalogue (English and Chinese packaging)."""

from __future__ import annotations

from livegen.render import ProductSpec

DEMO_PRODUCT = ProductSpec(
    brand="AURORA",
    product_name="Hydra Glow Face Cream",
    category="skincare",
    key_attributes={"volume": "50 ml", "skin_type": "all skin types"},
    price="¥129",
    speech=(
        "Hi everyone! Today I'm showing you the Aurora Hydra Glow Face Cream, "
        "fifty milliliters, only one hundred twenty nine yuan."
    ),
    name_lines=("Hydra Glow", "Face Cream"),
    spec_text="50 ml",
    tagline="FOR ALL SKIN TYPES",
)


