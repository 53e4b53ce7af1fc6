"""The generator's live-room skins and photographed packs (issue 14): each skin draws its own pieces and
names their text in the truth; a catalogued photo becomes the pack, with its product in the truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from livegen import photos
from livegen.benchmark import clip_recipe
from livegen.overlay import SKINS
from livegen.products import LINES
from livegen.render import build_assets, render_frame
from PIL import Image, ImageDraw

from edge.fusion.taxonomy import taxonomy


def _frame(recipe):
    assets = build_assets(recipe.product, recipe.live, recipe.clip, recipe.seed, recipe.font_path())
    sharp = recipe.clip.first("sharp")
    return render_frame(assets, recipe.clip, recipe.live, recipe.seed, int((sharp.start + sharp.end) / 2 * recipe.clip.fps), recipe.motion)


def test_skins_change_only_the_room_and_each_draws_its_own_pieces():
    base = clip_recipe(4, 3)
    assert base.live.skin == "classic" and clip_recipe(4, 3, skins=("classic",)) == base
    frames = {}
    for skin in SKINS:
        recipe = clip_recipe(4, 3, skins=(skin,))
        assert recipe.live.skin == skin and dataclasses.replace(recipe, live=dataclasses.replace(recipe.live, skin="classic",
                                                                                                   likes=base.live.likes)) == base
        frames[skin] = _frame(recipe).image
    assert all(not np.array_equal(frames["classic"], frames[s]) for s in SKINS[1:])
    seen = {clip_recipe(5, i, skins=SKINS).live.skin for i in range(40)}
    assert seen == set(SKINS)


def test_the_truth_names_the_skin_and_its_text(tmp_path):
    from livegen.clip import make_clip

    recipe = clip_recipe(4, 1, duration=4.0, skins=("minimal",))
    truth = make_clip(tmp_path / "c.mp4", recipe.seed, product=recipe.product, live=recipe.live, clip=recipe.clip,
                      pose_at=recipe.motion, font_path=recipe.font_path(), audio_spec=dataclasses.replace(recipe.audio, present=False),
                      extra_truth=recipe.truth_extra())
    assert truth["skin"] == "minimal" and {recipe.live.likes, recipe.live.share} <= set(truth["overlay_text"])
    assert taxonomy().find(truth["department"]) is not None and truth["product_type"]


def test_a_bilingual_pack_names_the_same_product_twice():
    for i in range(30):
        product = clip_recipe(6, i, layouts=("bilingual",)).product
        chinese_pack = product.product_name[0] > "\u2e80"
        english, chinese = (product.other_name, product.product_name) if chinese_pack else (product.product_name, product.other_name)
        line = next(ln for ln in LINES if ln.category == product.category)
        k = next(k for k, (en, zh) in enumerate(zip(line.en_nouns, line.zh_nouns)) if english.endswith(en))
        assert chinese.endswith(line.zh_nouns[k])


@pytest.fixture
def photo_folder(tmp_path, monkeypatch):
    """A drawn stand-in for a catalogued photo (opencv-doc's box.png is not installed by CI)."""
    image = Image.new("RGB", (324, 223), (200, 200, 200))
    ImageDraw.Draw(image).rectangle((20, 20, 120, 200), fill=(60, 60, 60))
    image.save(tmp_path / "box.png")
    return tmp_path


def test_a_photographed_pack_is_the_face_and_the_truth_is_its_catalogue_entry(photo_folder):
    found = photos.available(photo_folder)
    recipe = clip_recipe(7, 0, photos=tuple(found))
    product = recipe.product
    assert product.layout == photos.FAMILY and product.photo == str(photo_folder / "box.png") and recipe.language == "en"
    entry = photos.CATALOGUE["box.png"]
    assert (product.brand, product.product_name, product.department) == (entry.brand, entry.product_name, entry.department)
    width, height = product.package_size
    assert abs(width / height - 324 / 223) < 0.02
    frame = _frame(recipe)
    x0, y0, x1, y1 = (int(v) for v in frame.box)
    patch = frame.image[y0:y1, x0:x1]
    assert patch.size and float(patch.std()) > 10  # the photo's dark bar shows, not a flat drawn face


def test_a_folder_without_catalogued_photos_is_an_error_that_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        photos.available(tmp_path)
