"""Products: the demo's, and the benchmark catalogue (English and Chinese packaging)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livegen.render import PackageStyle, ProductSpec

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




# --------------------------------------------------------------------------------------------
# The benchmark catalogue: brands and product lines in English and Chinese
# --------------------------------------------------------------------------------------------

EN_BRANDS = (
    "AURORA", "LUMINA", "VELORA", "SOLARA", "KIYOMI", "BRIGHTWAVE", "OAKHAVEN", "MIRABEL",
    "ZENITH", "CLOUDPEAK", "PURELY", "ELARA", "VERDANT", "NORDIC LEAF", "ORCHID BAY", "HALCYON",
)
ZH_BRANDS = ("花漾", "云朵", "森屿", "悦颜", "青禾", "星河", "暖阳", "初雪", "竹语", "锦鲤", "山茶", "小满")


# Google product taxonomy (2021-09-21) paths the catalogue's departments start with
_SKIN = "Health & Beauty > Personal Care > Cosmetics > Skin Care"
_MAKEUP = "Health & Beauty > Personal Care > Cosmetics > Makeup"
_HAIR = "Health & Beauty > Personal Care > Hair Care"
_CARE = "Health & Beauty > Personal Care"
_FOOD = "Food, Beverages & Tobacco"
_KITCHEN = "Home & Garden > Kitchen & Dining"
_PETS = "Animals & Pet Supplies > Pet Supplies"
_AUDIO = "Electronics > Audio > Audio Components"


@dataclass(frozen=True)
class ProductLine:
    """One kind of product: its category (a key of the fusion lexicon), nouns and namings in both languages."""

    category: str
    en_nouns: tuple[str, ...]
    zh_nouns: tuple[str, ...]  # aligned with en_nouns
    en_names: tuple[str, ...]  # series names put before the noun ("Hydra Glow" Face Cream)
    zh_names: tuple[str, ...]
    specs: tuple[str, ...]  # net content / key spec as printed
    prices: tuple[int, int]  # price range in yuan
    en_tagline: str = ""
    zh_tagline: str = ""
    departments: tuple[str, ...] = ()  # aligned with en_nouns: the Google product taxonomy path of each


LINES = (
    ProductLine("Skincare", ("Face Cream", "Serum", "Toner", "Sunscreen", "Eye Cream", "Face Mask"),
                ("面霜", "精华", "爽肤水", "防晒霜", "眼霜", "面膜"),
                ("Hydra Glow", "Velvet Dew", "Pure Bloom", "Silk Repair", "Rose Water", "Deep Moist"),
                ("水润", "玻尿酸补水", "修护", "烟酰胺亮肤", "积雪草舒缓", "玫瑰"),
                ("50 ml", "30 ml", "100 ml"), (79, 329), "FOR ALL SKIN TYPES", "温和不刺激",
                departments=(
                    f"{_SKIN} > Lotion & Moisturizer",
                    _SKIN,
                    f"{_SKIN} > Toners & Astringents",
                    f"{_SKIN} > Sunscreen",
                    _SKIN,
                    f"{_SKIN} > Skin Care Masks & Peels",
                )),
    ProductLine("Makeup", ("Lipstick", "Lip Gloss", "Foundation", "Mascara", "Cushion"),
                ("口红", "唇釉", "粉底液", "睫毛膏", "气垫"),
                ("Velvet Matte", "Cherry Kiss", "Silk Finish", "Nude Rose", "Lash Lift"),
                ("丝绒哑光", "樱桃", "柔雾", "裸色", "持妆"),
                ("3.5 g", "30 ml", "8 ml"), (59, 269), "LONG LASTING", "持久不脱妆",
                departments=(
                    f"{_MAKEUP} > Lip Makeup > Lipstick",
                    f"{_MAKEUP} > Lip Makeup > Lip Gloss",
                    f"{_MAKEUP} > Face Makeup > Foundations & Concealers",
                    f"{_MAKEUP} > Eye Makeup > Mascara",
                    f"{_MAKEUP} > Face Makeup > Foundations & Concealers",
                )),
    ProductLine("Hair care", ("Shampoo", "Conditioner", "Hair Mask"), ("洗发水", "护发素", "发膜"),
                ("Argan Smooth", "Mint Fresh", "Keratin Repair", "Silk Shine"), ("氨基酸", "薄荷控油", "角蛋白修护", "柔顺"),
                ("400 ml", "250 ml", "500 ml"), (39, 129), "SALON CARE AT HOME", "沙龙级护理",
                departments=(f"{_HAIR} > Shampoo & Conditioner > Shampoo", f"{_HAIR} > Shampoo & Conditioner > Conditioners", _HAIR)),
    ProductLine("Personal care", ("Toothpaste", "Body Wash", "Hand Cream"), ("牙膏", "沐浴露", "护手霜"),
                ("Whitening Mint", "Ocean Breeze", "Shea Butter"), ("美白", "海洋", "乳木果"),
                ("120 g", "500 ml", "75 ml"), (19, 89), "DAILY CARE", "家庭装",
                departments=(
                    f"{_CARE} > Oral Care > Toothpaste",
                    f"{_CARE} > Cosmetics > Bath & Body > Body Wash",
                    f"{_SKIN} > Lotion & Moisturizer",
                )),
    ProductLine("Food & beverage", ("Green Tea", "Coffee", "Chocolate", "Honey", "Cookies"),
                ("绿茶", "咖啡", "巧克力", "蜂蜜", "饼干"),
                ("Mountain Mist", "Dark Roast", "Sea Salt", "Wildflower", "Butter Crisp"), ("高山", "深烘", "海盐", "百花", "黄油"),
                ("250 g", "500 g", "100 g"), (29, 159), "NATURAL TASTE", "精选原料",
                departments=(
                    f"{_FOOD} > Beverages > Tea & Infusions",
                    f"{_FOOD} > Beverages > Coffee",
                    f"{_FOOD} > Food Items > Candy & Chocolate",
                    f"{_FOOD} > Food Items > Condiments & Sauces > Honey",
                    f"{_FOOD} > Food Items > Bakery > Cookies",
                )),
    ProductLine("Health supplements", ("Vitamin C", "Fish Oil", "Collagen", "Probiotic"), ("维生素C", "鱼油", "胶原蛋白", "益生菌"),
                ("Daily Boost", "Omega Plus", "Beauty Glow", "Gut Balance"), ("每日", "深海", "美颜", "肠道"),
                ("60 pcs", "90 pcs", "120 pcs"), (69, 299), "DIETARY SUPPLEMENT", "膳食营养补充",
                departments=("Health & Beauty > Health Care > Fitness & Nutrition > Vitamins & Supplements",) * 4),
    ProductLine("Electronics", ("Wireless Earbuds", "Power Bank", "Bluetooth Speaker", "Smartwatch"),
                ("蓝牙耳机", "充电宝", "蓝牙音箱", "智能手表"),
                ("AirBeat", "Volt Max", "SoundCube", "Pulse Fit"), ("降噪", "快充", "便携", "运动"),
                ("10000 mAh", "20000 mAh", "5000 mAh"), (99, 699), "FAST CHARGING", "超长续航",
                departments=(
                    f"{_AUDIO} > Headphones & Headsets > Headphones",
                    "Electronics > Electronics Accessories > Power > Batteries",
                    f"{_AUDIO} > Speakers",
                    "Apparel & Accessories > Jewelry > Watches",
                )),
    ProductLine("Home & kitchen", ("Air Fryer", "Electric Kettle", "Frying Pan"), ("空气炸锅", "电水壶", "不粘锅"),
                ("Crispy Pro", "QuickBoil", "Chef Select"), ("智能", "速热", "麦饭石"),
                ("5 L", "1.7 L", "3.5 L"), (89, 499), "EASY TO CLEAN", "易清洗",
                departments=(
                    f"{_KITCHEN} > Kitchen Appliances > Deep Fryers",
                    f"{_KITCHEN} > Kitchen Appliances > Electric Kettles",
                    f"{_KITCHEN} > Cookware & Bakeware > Cookware > Skillets & Frying Pans",
                )),
    ProductLine("Fragrance", ("Perfume", "Eau de Parfum"), ("香水", "淡香水"),
                ("Midnight Bloom", "Citrus Aura", "Amber Night"), ("晚香", "柑橘", "琥珀"),
                ("50 ml", "30 ml", "100 ml"), (199, 899), "LONG LASTING SCENT", "持久留香",
                departments=(f"{_CARE} > Cosmetics > Perfume & Cologne",) * 2),
    ProductLine("Pet supplies", ("Cat Food", "Dog Food"), ("猫粮", "狗粮"),
                ("Ocean Fish", "Chicken Feast", "Grain Free"), ("深海鱼", "鸡肉", "无谷"),
                ("2 kg", "1.5 kg", "5 kg"), (59, 259), "COMPLETE NUTRITION", "营养均衡",
                departments=(f"{_PETS} > Cat Supplies > Cat Food", f"{_PETS} > Dog Supplies > Dog Food")),
)

# (top, bottom, ink, accent) RGB
PALETTES = (
    ((236, 246, 252), (178, 214, 238), (22, 38, 84), (214, 150, 92)),
    ((252, 238, 240), (236, 176, 190), (96, 20, 44), (200, 150, 60)),
    ((240, 250, 236), (170, 214, 160), (20, 70, 30), (230, 170, 60)),
    ((255, 248, 225), (240, 205, 120), (90, 50, 10), (170, 40, 40)),
    ((40, 44, 60), (16, 18, 28), (240, 236, 220), (220, 180, 90)),
    ((246, 240, 255), (196, 176, 236), (50, 24, 100), (240, 130, 170)),
    ((250, 250, 250), (210, 214, 220), (30, 30, 34), (0, 140, 200)),
    ((28, 70, 90), (10, 36, 52), (245, 250, 250), (250, 200, 80)),
)

_SPEC_WORDS_EN = {"ml": "milliliters", "g": "grams", "kg": "kilograms", "L": "liters", "mAh": "milliamp hours", "pcs": "pieces"}
_SPEC_WORDS_ZH = {"ml": "毫升", "g": "克", "kg": "公斤", "L": "升", "mAh": "毫安时", "pcs": "粒"}


def _spoken_spec(spec: str, words: dict[str, str], sep: str) -> str:
    number, unit = spec.split(" ", 1)
    return f"{number}{sep}{words.get(unit, unit)}"


def _lines(name: str, cjk: bool) -> tuple[str, ...]:
    """How a name is broken over the pack: two lines when long."""
    if cjk:
        return (name,) if len(name) <= 5 else (name[: (len(name) + 1) // 2], name[(len(name) + 1) // 2 :])
    words = name.split()
    if len(words) <= 2:
        return (name,)
    half = (len(words) + 1) // 2
    return (" ".join(words[:half]), " ".join(words[half:]))


def make_product(rng: np.random.Generator, language: str, package_size: tuple[int, int], layout: str = "classic",
                 layout_rng: np.random.Generator | None = None) -> ProductSpec:
    """A random product from the catalogue with ``language`` ('en' or 'zh') packaging and speech.

    ``layout``: its packaging family (``livegen.layouts``); what a family draws beyond ``classic`` (a font,
    a claim, the other language's name) comes from ``layout_rng``, so that ``rng`` draws the same
    products whatever the family.
    """
    product = _make_product(rng, language, package_size)
    if layout == "classic":
        return product
    return _in_family(product, layout, layout_rng if layout_rng is not None else np.random.default_rng(0), language)


def _in_family(product: ProductSpec, layout: str, rng: np.random.Generator, language: str) -> ProductSpec:
    """``product`` packed in the ``layout`` family, with a font of its script."""
    from dataclasses import replace

    from livegen import layouts

    cjk = language == "zh"
    fonts = layouts.CJK_FONTS if cjk else layouts.LATIN_FONTS
    font = list(fonts.values())[int(rng.integers(len(fonts)))]
    changes: dict = {"layout": layout, "font": font}
    line = next(ln for ln in LINES if ln.category == product.category)
    if layout == "stacked":
        changes["name_lines"] = layouts.stack_lines(product.product_name, cjk)
    elif layout == "logo":
        changes["printed_brand"] = layouts.logo_brand(product.brand)
    elif layout == "claim-first":
        claims = layouts.ZH_CLAIMS if cjk else layouts.EN_CLAIMS
        changes["claim"] = claims[int(rng.integers(len(claims)))]
    elif layout == "bilingual":  # the same product in the other language: its noun translated, a series name of that language
        k = (line.zh_nouns if cjk else line.en_nouns).index(product.product_type)
        if cjk:
            changes["other_name"] = f"{line.en_names[int(rng.integers(len(line.en_names)))]} {line.en_nouns[k]}"
            changes["other_font"] = layouts.LATIN_FONTS["dejavu-sans"]
        else:
            changes["other_name"] = line.zh_names[int(rng.integers(len(line.zh_names)))] + line.zh_nouns[k]
            changes["other_font"] = layouts.CJK_FONTS["noto-sans-cjk"]
    elif layout == "brand-in-name":
        if cjk:  # one line: the brand and the name run together ("锦鲤晚香香水")
            changes["name_lines"] = (product.brand + product.product_name,)
        else:
            changes["name_lines"] = _lines(f"{layouts.logo_brand(product.brand)} {product.product_name}", False)
    elif layout != "name-first":
        raise ValueError(f"unknown layout family {layout!r}")
    return replace(product, **changes)


def _make_product(rng: np.random.Generator, language: str, package_size: tuple[int, int]) -> ProductSpec:
    line = LINES[int(rng.integers(len(LINES)))]
    k = int(rng.integers(len(line.en_nouns)))
    spec = line.specs[int(rng.integers(len(line.specs)))]
    price = int(rng.integers(line.prices[0], line.prices[1] + 1))
    top, bottom, ink, accent = PALETTES[int(rng.integers(len(PALETTES)))]
    style = PackageStyle(top, bottom, ink, accent)
    if language == "zh":
        latin_brand = rng.random() < 0.25  # a Latin brand on Chinese packaging is common
        brand = EN_BRANDS[int(rng.integers(len(EN_BRANDS)))] if latin_brand else ZH_BRANDS[int(rng.integers(len(ZH_BRANDS)))]
        name = line.zh_names[int(rng.integers(len(line.zh_names)))] + line.zh_nouns[k]
        spec_text = spec.replace(" ", "")
        speech = (
            f"大家好！今天给大家推荐{brand.title() if latin_brand else brand}{name}，"
            f"{_spoken_spec(spec, _SPEC_WORDS_ZH, '')}，直播间只要{price}元。"
        )
        return ProductSpec(
            brand=brand, product_name=name, category=line.category, key_attributes={"spec": spec_text}, price=f"¥{price}",
            speech=speech, name_lines=_lines(name, True), spec_text=spec_text, tagline=line.zh_tagline, style=style,
            package_size=package_size, product_type=line.zh_nouns[k], department=line.departments[k],
        )
    brand = EN_BRANDS[int(rng.integers(len(EN_BRANDS)))]
    name = f"{line.en_names[int(rng.integers(len(line.en_names)))]} {line.en_nouns[k]}"
    speech = (
        f"Hi everyone! Today I'm showing you the {brand.title()} {name}, "
        f"{_spoken_spec(spec, _SPEC_WORDS_EN, ' ')}, only {price} yuan."
    )
    return ProductSpec(
        brand=brand, product_name=name, category=line.category, key_attributes={"spec": spec}, price=f"¥{price}",
        speech=speech, name_lines=_lines(name, False), spec_text=spec, tagline=line.en_tagline, style=style,
        package_size=package_size, product_type=line.en_nouns[k], department=line.departments[k],
    )
