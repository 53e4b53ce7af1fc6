"""The benchmark generator (tools/make_benchmark.py, tools/livegen): clips, truth, manifest, COCO boxes."""

from __future__ import annotations

import hashlib
import json
import re

import av
import cv2
import numpy as np
import pytest
from bench_clips import BENCH_CLIPS, BENCH_SECONDS, BENCH_SEED
from livegen.benchmark import clip_recipe
from livegen.coco import CATEGORY
from workspace import needs_media_tools

pytestmark = needs_media_tools
CJK = re.compile(r"[\u4e00-\u9fff]")


def _truth(folder, row):
    return json.loads((folder / row["truth"]).read_text(encoding="utf-8"))


def test_recipes_cover_the_issue_s_variety():
    """Over 100 recipes: both languages, both orientations, transitions in some, silence in some, every event kind."""
    recipes = [clip_recipe(0, i) for i in range(100)]
    assert 20 <= sum(r.language == "zh" for r in recipes) <= 60
    assert 40 <= sum(r.orientation == "vertical" for r in recipes) <= 80
    assert 30 <= sum(r.clip.first("transition") is not None for r in recipes) <= 70
    assert 5 <= sum(not r.audio.present for r in recipes) <= 30
    kinds = {s.kind for r in recipes for s in r.clip.timeline}
    assert kinds == {"enter", "swing", "camswing", "sharp", "defocus", "occluded", "side", "transition"}
    for r in recipes:
        assert 6.0 <= r.clip.duration <= 10.0 and max(r.clip.width, r.clip.height) <= 720
        assert any(s.kind == "sharp" for s in r.clip.timeline)
        assert r.clip.timeline[-1].end == pytest.approx(r.clip.duration)
        assert r.product.category and r.product.price.startswith("¥") and r.product.key_attributes["spec"]
    assert clip_recipe(0, 7) == clip_recipe(0, 7) and clip_recipe(0, 7) != clip_recipe(1, 7)


def test_manifest_and_clips(small_bench):
    folder, manifest = small_bench
    assert manifest["seed"] == BENCH_SEED and len(manifest["clips"]) == BENCH_CLIPS
    on_disk = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["clips"] == manifest["clips"]
    for row in manifest["clips"]:
        truth = _truth(folder, row)
        assert (truth["brand"], truth["product_name"], truth["category"]) == (row["brand"], row["product_name"], row["category"])
        with av.open(str(folder / row["video"])) as c:
            v = c.streams.video[0]
            assert (v.codec_context.width, v.codec_context.height) == (truth["video"]["width"], truth["video"]["height"])
            assert c.duration / 1e6 == pytest.approx(BENCH_SECONDS, abs=0.1)
            assert len(c.streams.audio) == (1 if row["has_audio"] else 0)
        assert len(truth["frames"]) == truth["video"]["frame_count"] == int(BENCH_SECONDS * 25)
        assert truth["best_frames"], f"{row['id']} has no clean span"
    assert {r["language"] for r in manifest["clips"]} == {"en", "zh"}
    assert {r["orientation"] for r in manifest["clips"]} == {"vertical", "horizontal"}
    assert {r["has_audio"] for r in manifest["clips"]} == {True, False}


def test_transition_clips_end_on_the_card(small_bench):
    folder, manifest = small_bench
    with_card = [r for r in manifest["clips"] if r["has_transition"]]
    without = [r for r in manifest["clips"] if not r["has_transition"]]
    assert with_card and without
    for row in with_card:
        truth = _truth(folder, row)
        assert truth["frames"][-1]["box"] is None  # the card covers the product
        # the card starts sliding slowly: clean frames end within its first 0.3 s
        assert all(b <= truth["transition_start"] + 0.3 for _, b in truth["best_frames"])
    for row in without:
        assert _truth(folder, row)["frames"][-1]["box"] is not None


def test_chinese_packaging_is_printed_in_cjk(small_bench):
    """The Chinese product's name is on the pack in CJK glyphs: OCR reads them off a clean frame."""
    from edge.config.models import OcrConfig
    from edge.ocr import create_reader
    from edge.types import Frame

    folder, manifest = small_bench
    row = next(r for r in manifest["clips"] if r["language"] == "zh")
    truth = _truth(folder, row)
    assert CJK.search(truth["product_name"])
    a, b = max(truth["best_frames"], key=lambda r: r[1] - r[0])
    index = int(round((a + b) / 2 * truth["video"]["fps"]))
    with av.open(str(folder / row["video"])) as c:
        image = next(f.to_ndarray(format="bgr24") for i, f in enumerate(c.decode(video=0)) if i == index)
    x1, y1, x2, y2 = truth["frames"][index]["box"]
    lines = create_reader(OcrConfig(), 2).read(Frame(0, 0.0, np.ascontiguousarray(image[y1:y2, x1:x2])), None)
    read = "".join(line.text for line in lines)
    name_chars = set(CJK.findall(truth["product_name"]))
    assert len(name_chars & set(read)) >= len(name_chars) // 2, (read, truth["product_name"])


def test_coco_annotations_match_the_truth(small_bench):
    folder, manifest = small_bench
    coco = json.loads((folder / "coco" / "annotations.json").read_text(encoding="utf-8"))
    assert coco["categories"] == [CATEGORY]
    images = {im["id"]: im for im in coco["images"]}
    assert len(images) == len(coco["images"]) == BENCH_CLIPS * int(BENCH_SECONDS * 25 / manifest["coco"]["stride"])
    assert len({a["id"] for a in coco["annotations"]}) == len(coco["annotations"]) > 0
    truths = {r["id"]: _truth(folder, r) for r in manifest["clips"]}
    for ann in coco["annotations"]:
        im = images[ann["image_id"]]
        clip = im["video"].split("/")[-1].removesuffix(".mp4")
        frame = truths[clip]["frames"][im["frame_index"]]
        x, y, w, h = ann["bbox"]
        assert [x, y, x + w, y + h] == frame["box"] and ann["area"] == w * h and ann["category_id"] == 0 and ann["iscrowd"] == 0
        assert 0 <= x and 0 <= y and x + w <= im["width"] and y + h <= im["height"]
        assert frame["in_frame"] >= 0.6 and frame["occluded"] <= 0.6
    # the frame JPEGs exist and are the rendered frames the boxes describe
    ann = coco["annotations"][len(coco["annotations"]) // 2]
    im = images[ann["image_id"]]
    jpeg = cv2.imread(str(folder / "coco" / im["file_name"]))
    assert jpeg.shape == (im["height"], im["width"], 3)
    unannotated = [im for im in coco["images"] if im["id"] not in {a["image_id"] for a in coco["annotations"]}]
    assert unannotated  # the transition card and the entering product carry no box


def test_same_seed_same_bytes(small_bench, tmp_path):
    """A clip regenerated from the same (seed, index) is byte-identical; another seed differs."""
    from make_benchmark import make_one

    folder, manifest = small_bench
    row = manifest["clips"][3]
    make_one(tmp_path, BENCH_SEED, 3, BENCH_SECONDS, 5, False)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / row["video"]) == digest(folder / row["video"])
    assert (tmp_path / row["truth"]).read_bytes() == (folder / row["truth"]).read_bytes()
    make_one(tmp_path / "other", BENCH_SEED + 1, 3, BENCH_SECONDS, 5, False)
    assert digest(tmp_path / "other" / row["video"]) != digest(folder / row["video"])


def test_indices_render_chosen_clips_of_the_dataset_byte_for_byte(small_bench, tmp_path):
    """--indices 1,3: those two clips, the same bytes as in the whole dataset; the command says how they were made."""
    from make_benchmark import _indices, make_benchmark

    assert _indices("3,7,10-12,7") == (3, 7, 10, 11, 12)
    with pytest.raises(ValueError, match="--indices"):
        _indices("3,x")
    folder, whole = small_bench
    manifest = make_benchmark(tmp_path, 0, BENCH_SEED, workers=1, duration=BENCH_SECONDS, indices=(1, 3), log=lambda m: None)
    assert [row["id"] for row in manifest["clips"]] == [whole["clips"][1]["id"], whole["clips"][3]["id"]]
    assert manifest["command"].endswith("--indices 1,3")
    for row in manifest["clips"]:
        assert (tmp_path / row["video"]).read_bytes() == (folder / row["video"]).read_bytes()
