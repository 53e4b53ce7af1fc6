"""export label-quality / train-quality: teachers, the split by video, distillation, resuming and the edge's view of the ONNX.

A small benchmark-shaped dataset is rendered in a fixture: four clips of a product label (real
DejaVu text) at four blur levels each, in the COCO layout ``tools/make_benchmark.py --coco-images``
writes, with truth text. The students are the reduced EfficientNetV2 at 64 px, so every training
here takes seconds on two cores; the OCR teacher runs the real RapidOCR.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from ocr_scenes import DEJAVU, THREADS, find_font, product_scene

from edge.config import QualityConfig
from edge.runtime import QUALITY_MAX_KEY, QUALITY_MIN_KEY, ModelPack
from edge.score import create_quality_regressor
from edge.types import OcrLine

torch = pytest.importorskip("torch", reason="training needs torch (the export extra)")
pytest.importorskip("torchvision", reason="EfficientNetV2 needs torchvision (the export extra)")

from export.__main__ import main as export
from export.crops import iter_crops
from export.labels import QualityLabel, read_labels
from export.quality_data import split_by_video
from export.teachers import OcrTeacher, read_scores, readability
from export.train_quality import VARIANT_KEY, TrainConfig, train_quality

BLURS = (0.0, 1.5, 3.0, 5.0)  # Gaussian sigma of each clip's frames, at 480x270
SIZE = 64
FAST = TrainConfig(variant="tiny", input_size=SIZE, epochs=2, batch_size=4, augment=False, threads=THREADS, save_every=0)


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """A dataset root: coco/annotations.json, coco/frames/<clip>/<i>.jpg and clips/<clip>.truth.json."""
    regular, bold = (find_font(name) for name in DEJAVU)
    if regular is None or bold is None:
        pytest.skip("DejaVu Sans is not installed (apt-get install -y fonts-dejavu-core)")
    scene = product_scene(regular, bold).resized((480, 270))
    root = tmp_path_factory.mktemp("bench")
    images, annotations = [], []
    for clip in range(4):
        cid = f"clip_{clip:04d}"
        truth = {"brand": "AURORA", "product_name": "Hydra Glow Face Cream", "key_attributes": {"spec": "50 ml"}}
        (root / "clips").mkdir(exist_ok=True)
        (root / "clips" / f"{cid}.truth.json").write_text(json.dumps(truth), encoding="utf-8")
        for k, sigma in enumerate(BLURS):
            index = 5 * k
            image = cv2.GaussianBlur(scene.image, (0, 0), sigma) if sigma else scene.image
            shifted = np.roll(image, clip * 3, axis=1)  # clips differ a little
            name = f"frames/{cid}/{index:05d}.jpg"
            (root / "coco" / name).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / "coco" / name), shifted, [cv2.IMWRITE_JPEG_QUALITY, 95])
            images.append({"id": len(images) + 1, "file_name": name, "video": f"clips/{cid}.mp4", "frame_index": index})
            x1, y1, x2, y2 = scene.product
            annotations.append({"id": len(annotations) + 1, "image_id": len(images), "category_id": 0,
                                "bbox": [x1 + clip * 3, y1, x2 - x1, y2 - y1]})
    document = {"images": images, "annotations": annotations, "categories": [{"id": 0, "name": "goods"}]}
    (root / "coco" / "annotations.json").write_text(json.dumps(document), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def labels(bench, tmp_path_factory) -> Path:
    """Labels by the scores teacher from a CSV that rates each crop by its known blur (1 sharp .. 0)."""
    folder = tmp_path_factory.mktemp("labels")
    rows = ["file,score"] + [f"/elsewhere/crops/{crop.crop},{1 - BLURS[crop.frame // 5] / max(BLURS):.3f}"
                             for crop in iter_crops(bench)]
    (folder / "scores.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert export(["label-quality", str(bench), "--teacher", "scores", "--scores", str(folder / "scores.csv"),
                   "--out", str(folder / "labels.json")]) == 0
    return folder / "labels.json"


def test_crops_come_from_truth_boxes_with_truth_text(bench) -> None:
    crops = list(iter_crops(bench))
    assert len(crops) == 16 and {c.video for c in crops} == {f"clip_{i:04d}" for i in range(4)}
    first = crops[0]
    x1, y1, x2, y2 = first.box
    assert first.image.shape[:2] == (round(y2 - y1), round(x2 - x1))
    assert first.text == ("AURORA", "Hydra Glow Face Cream", "50 ml")


def test_crops_of_frames_sampled_elsewhere_find_the_benchmarks_truth_text(bench, tmp_path) -> None:
    """coco-from-benchmark writes its frames outside the benchmark; its info.sampled_from leads back to the clips."""
    import shutil

    shutil.copytree(bench / "coco" / "frames", tmp_path / "sampled" / "frames")
    document = json.loads((bench / "coco" / "annotations.json").read_text())
    document["info"] = {"sampled_from": str(bench / "coco" / "annotations.json"), "stride": 5}
    (tmp_path / "sampled" / "annotations.json").write_text(json.dumps(document))
    crops = list(iter_crops(tmp_path / "sampled"))
    assert len(crops) == 16 and all(c.text == ("AURORA", "Hydra Glow Face Cream", "50 ml") for c in crops)


def test_split_is_by_video() -> None:
    items = [QualityLabel(Path(f"{v}_{i}.png"), f"clip_{v}", 0.5) for v in range(10) for i in range(3 + v % 2)]
    train, val = split_by_video(items, 0.2, seed=0)
    assert len(train) + len(val) == len(items)
    assert {x.video for x in train}.isdisjoint({x.video for x in val})
    assert len({x.video for x in val}) == 2
    assert split_by_video(items, 0.2, seed=0) == (train, val)  # deterministic
    with pytest.raises(ValueError, match="at least 2 videos"):
        split_by_video(items[:3], 0.2)


def test_loss_falls_and_the_onnx_runs_in_the_edge(labels, tmp_path) -> None:
    config = TrainConfig(**{**FAST.__dict__, "epochs": 12, "lr": 3e-3, "early_stopping": 12})
    report = train_quality(labels, tmp_path / "run", config, log=lambda m: None)
    losses = [row["train_loss"] for row in report["history"]]
    assert min(losses[-3:]) < 0.6 * losses[0], losses
    assert set(report["validation"]) == {"mse", "mae", "rmse", "pearson"}
    assert report["split"]["val_videos"] and set(report["split"]["val_videos"]).isdisjoint(report["split"]["train_videos"])

    path = tmp_path / "run" / "quality.onnx"
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props[VARIANT_KEY] == "efficientnetv2-tiny" and float(props[QUALITY_MIN_KEY]) < float(props[QUALITY_MAX_KEY])
    assert report["onnx"]["edge_vs_torch_max_abs"] < 1e-4
    crops = {c.frame: c.image for c in iter_crops(_bench_of(labels))
             if c.video == report["split"]["val_videos"][0]}
    regressor = create_quality_regressor(QualityConfig(model=path, input_size=SIZE))
    sharp, blurred = regressor.predict([crops[0], crops[15]])
    regressor.close()
    assert 0.0 <= blurred < sharp <= 1.0  # a held-out clip: sharp above blurred


def _bench_of(labels: Path) -> Path:
    return Path(json.loads(labels.read_text(encoding="utf-8"))["source"])


def test_a_checkpoint_resumes_mid_epoch_to_the_same_weights(labels, tmp_path) -> None:
    config = TrainConfig(**{**FAST.__dict__, "save_every": 2})
    straight = train_quality(labels, tmp_path / "straight", config, log=lambda m: None)

    class Interrupted(Exception):
        pass

    def stop_at_step_2_of_epoch_2(message: str) -> None:
        if message.startswith("epoch 2: step 2/"):
            raise Interrupted

    with pytest.raises(Interrupted):
        train_quality(labels, tmp_path / "resumed", config, log=stop_at_step_2_of_epoch_2)
    assert not (tmp_path / "resumed" / "report.json").exists()
    messages: list[str] = []
    resumed = train_quality(labels, tmp_path / "resumed", config, resume=True, log=messages.append)
    assert messages[0].startswith("resumed") and "epoch 2, step 2" in messages[0]
    assert [r["epoch"] for r in resumed["history"]] == [1, 2]
    for a, b in zip(straight["history"], resumed["history"]):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-4)
        assert b["val_mse"] == pytest.approx(a["val_mse"], rel=1e-4)
    one = torch.load(tmp_path / "straight" / "last.pt", weights_only=False)["model"]
    two = torch.load(tmp_path / "resumed" / "last.pt", weights_only=False)["model"]
    assert all(torch.allclose(one[k].float(), two[k].float(), atol=1e-5) for k in one)


def test_early_stopping_and_no_silent_overwrite(labels, tmp_path) -> None:
    config = TrainConfig(**{**FAST.__dict__, "epochs": 10, "lr": 0.0, "early_stopping": 2})  # nothing improves
    report = train_quality(labels, tmp_path / "run", config, log=lambda m: None)
    assert [r["epoch"] for r in report["history"]] == [1, 2, 3] and report["best_epoch"] == 1
    assert report["stopped"].startswith("early stopping")
    with pytest.raises(ValueError, match="--resume it or choose a new --out"):
        train_quality(labels, tmp_path / "run", config, log=lambda m: None)


def test_cli_trains_and_reports_table_4(labels, tmp_path, capsys) -> None:
    out = tmp_path / "cli"
    assert export(["train-quality", "--labels", str(labels), "--out", str(out), "--variant", "tiny", "--input-size", str(SIZE),
                   "--epochs", "1", "--batch-size", "4", "--no-augment", "--threads", str(THREADS),
                   "--pack", str(tmp_path / "manifest.yaml"), "--name", "quality"]) == 0
    printed = json.loads(next(line for line in capsys.readouterr().out.splitlines() if line.startswith("{")))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert printed["best_epoch"] == report["best_epoch"] == 1
    assert report["command"].startswith(f"python -m export train-quality --labels {labels} --out {out} --variant tiny "
                                        f"--input-size {SIZE} --epochs 1 --batch-size 4 --no-augment --threads {THREADS}")
    assert report["recipe"]["optimizer"] == "Adam" and report["teacher"]["name"] == "scores"
    assert (out / "best.pt").is_file() and (out / "last.pt").is_file()
    entry = ModelPack.load(tmp_path / "manifest.yaml").get("quality")
    assert entry.role == "quality" and entry.metadata[VARIANT_KEY] == "efficientnetv2-tiny"
    assert entry.provenance["validation"] == report["validation"]
    # best.pt re-exported by `export quality` gives the graph train-quality exported
    low, high = entry.metadata[QUALITY_MIN_KEY], entry.metadata[QUALITY_MAX_KEY]
    again = tmp_path / "again.onnx"
    assert export(["quality", str(out / "best.pt"), "--variant", "tiny", "--range", low, high, "--input-size", str(SIZE),
                   "-o", str(again)]) == 0
    import onnxruntime as ort

    feed = np.random.default_rng(0).normal(size=(2, 3, SIZE, SIZE)).astype(np.float32)
    runs = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (out / "quality.onnx", again)]
    first, second = (r.run(None, {r.get_inputs()[0].name: feed})[0] for r in runs)
    np.testing.assert_allclose(first, second, atol=1e-5)


def test_ocr_teacher_scores_a_sharp_crop_above_a_blurred_one(bench) -> None:
    teacher = OcrTeacher(threads=THREADS)
    crops = {c.frame: c for c in iter_crops(bench) if c.video == "clip_0000"}
    sharp, sharp_detail = teacher.score(crops[0])
    blurred, _ = teacher.score(crops[15])
    assert sharp > 0.8 and sharp_detail["against"] == "truth", sharp_detail
    assert blurred < sharp - 0.3


def test_readability_against_truth_and_by_count() -> None:
    line = lambda text, conf: OcrLine(text, conf, ((0, 0), (1, 0), (1, 1), (0, 1)), 0, None)
    full = readability([line("AURORA", 1.0), line("Hydra Glow Face Cream", 0.9), line("50 ML", 0.8)],
                       ("AURORA", "Hydra Glow Face Cream", "50 ml"))
    assert full["recovered"] == 1.0 and 0.8 < full["score"] < 1.0
    brand = readability([line("AURORA", 1.0)], ("AURORA", "Hydra Glow Face Cream", "50 ml"))
    assert brand["recovered"] == pytest.approx(6 / 28)
    assert readability([], ("AURORA",))["score"] == 0.0
    assert readability([line("ABCDEFGHIJKL", 0.5)], saturation=24)["score"] == pytest.approx(0.25)


def test_scores_files(tmp_path) -> None:
    (tmp_path / "a.csv").write_text("clip_0001/00005_0.png,0.7\nclip_0001/00010_0.png,0.2\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("path,mos\n/x/clip_0001/00005_0.png,70\n", encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps([{"crop": "a.png", "score": 1}]), encoding="utf-8")
    (tmp_path / "d.json").write_text(json.dumps({"a.png": 2}), encoding="utf-8")
    assert read_scores(tmp_path / "a.csv") == {"clip_0001/00005_0.png": 0.7, "clip_0001/00010_0.png": 0.2}
    assert read_scores(tmp_path / "b.csv") == {"/x/clip_0001/00005_0.png": 70.0}
    assert read_scores(tmp_path / "c.json") == {"a.png": 1.0} and read_scores(tmp_path / "d.json") == {"a.png": 2.0}


def test_labels_file_round_trip(labels) -> None:
    items, header = read_labels(labels)
    assert len(items) == 16 and header["teacher"]["name"] == "scores" and header["videos"] == 4
    by_frame = {x.crop: x.label for x in items if x.video == "clip_0000"}
    assert by_frame["clip_0000/00000_0.png"] == 1.0 and by_frame["clip_0000/00015_0.png"] == 0.0


def test_brisque_ranks_blur_and_matches_contrib_where_installed(bench) -> None:
    from export.brisque import Brisque, find_models

    try:
        find_models()
    except FileNotFoundError as error:
        pytest.skip(f"{error}")
    crops = {c.frame: c.image for c in iter_crops(bench) if c.video == "clip_0000"}
    brisque = Brisque(backend="numpy")
    assert brisque.score(crops[0]) < brisque.score(crops[15])  # lower is better
    if brisque.describe()["backend"] == "numpy" and hasattr(cv2, "quality"):
        contrib = Brisque(backend="opencv")
        assert brisque.score(crops[0]) == pytest.approx(contrib.score(crops[0]), abs=0.1)


def test_brisque_without_model_files_is_one_line(bench, tmp_path, capsys) -> None:
    code = export(["label-quality", str(bench), "--teacher", "brisque", "--brisque-models", str(tmp_path),
                   "--out", str(tmp_path / "l.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "opencv-data" in err
