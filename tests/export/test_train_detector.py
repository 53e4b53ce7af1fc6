"""export/train_detector.py and friends: COCO data and AP, augmentation, training, resuming, the exported ONNX.

Real torch, transformers, pycocotools and ONNX Runtime on a tiny D-FINE at 96 px over a handful of
generated frames (a red-and-white "product" on a smooth random background), so it all runs in
seconds on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch", reason="training needs torch (the export extra)")
pytest.importorskip("transformers", reason="D-FINE needs transformers (the export extra)")
pytest.importorskip("pycocotools", reason="COCO AP needs pycocotools (the export extra)")

from edge.config.models import DetectorConfig
from edge.detect import create_detector
from edge.runtime import preprocess_frames
from export.__main__ import main
from export.augment import AugmentOptions, augment
from export.coco import coco_from_benchmark, coco_metrics, load_coco
from export.dfine import INPUT_SIZE_KEY, DFineWithPostprocess, load_dfine
from export.train_detector import Recipe, Trainer

SIZE = 96
RED = (0, 0, 230)


def product_frame(rng: np.random.Generator, shape: tuple[int, int], boxed: bool) -> tuple[np.ndarray, list[int]]:
    """A frame and its product box (x, y, w, h; empty when ``boxed`` is False)."""
    h, w = shape
    frame = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    if not boxed:
        return frame, []
    bw, bh = int(rng.integers(w // 4, w // 2)), int(rng.integers(h // 4, h // 2))
    x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
    frame[y : y + bh, x : x + bw] = RED
    frame[y + bh // 3 : y + 2 * bh // 3, x + 2 : x + bw - 2] = 255
    return frame, [x, y, bw, bh]


def write_dataset(folder: Path, count: int, seed: int, shape: tuple[int, int] = (96, 128)) -> Path:
    """``count`` frames as JPEGs + annotations.json (one in six without a product), category 0 as the generator's."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(count):
        frame, box = product_frame(rng, shape, boxed=i % 6 != 5)
        name = f"frames/{i:03d}.jpg"
        (folder / "frames").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append({"id": i + 1, "file_name": name, "width": shape[1], "height": shape[0]})
        if box:
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": 0, "bbox": box,
                                "area": box[2] * box[3], "iscrowd": 0})
    document = {"images": images, "annotations": annotations, "categories": [{"id": 0, "name": "goods"}]}
    (folder / "annotations.json").write_text(json.dumps(document), encoding="utf-8")
    return folder / "annotations.json"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: as fast on these toy sizes, and no spinning threads when the machine is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("coco")
    return write_dataset(root / "train", 8, seed=0), write_dataset(root / "val", 4, seed=1)


def tiny_recipe(data: tuple[Path, Path], out: Path, **changes) -> Recipe:
    options = dict(data=str(data[0]), val=str(data[1]), out=str(out), variant="tiny", input_size=SIZE, batch=4, steps=4,
                   queries=20, denoising=10, eval_every=100, checkpoint_every=100)
    return Recipe(**{**options, **changes})


# -- COCO AP is pycocotools' and wired right -------------------------------------------------------------------

def _truth_document() -> dict:
    boxes = {1: [[10, 10, 40, 30]], 2: [[50, 20, 30, 30], [5, 5, 20, 20]], 3: []}
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 128, "height": 96} for i in boxes]
    annotations = [{"id": n + 1, "image_id": i, "category_id": 0, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
                   for n, (i, b) in enumerate((i, b) for i, bs in boxes.items() for b in bs)]
    return {"images": images, "annotations": annotations, "categories": [{"id": 0, "name": "goods"}]}


def test_coco_ap_is_one_on_perfect_boxes_and_less_on_shifted_ones() -> None:
    truth = _truth_document()
    perfect = [{"image_id": a["image_id"], "category_id": 0, "bbox": a["bbox"], "score": 0.9} for a in truth["annotations"]]
    assert coco_metrics(truth, perfect) == {"mAP50:95": 1.0, "AP50": 1.0, "AP75": 1.0, "AR100": 1.0}

    shifted = [{**d, "bbox": [d["bbox"][0] + 0.2 * d["bbox"][2], *d["bbox"][1:]]} for d in perfect]  # IoU 0.67
    metrics = coco_metrics(truth, shifted)
    assert metrics["AP50"] == pytest.approx(1.0) and metrics["AP75"] == 0.0 and 0.2 < metrics["mAP50:95"] < 0.5

    a_miss = perfect[1:] + [{**perfect[0], "image_id": 3}]  # one box on the frame without a product
    assert 0.5 < coco_metrics(truth, a_miss)["mAP50:95"] < 1.0
    assert coco_metrics(truth, [])["mAP50:95"] == 0.0


def test_load_coco_keeps_frames_without_boxes(data) -> None:
    loaded = load_coco(data[0].parent)  # the folder finds annotations.json
    assert len(loaded.samples) == 8 and loaded.category_ids == (0,)
    assert [len(s.boxes) for s in loaded.samples].count(0) == 1
    first = loaded.samples[0]
    assert first.read().shape == (96, 128, 3) and first.boxes.shape == (1, 4) and first.labels.tolist() == [0]


def test_coco_from_benchmark_samples_frames_from_the_clips(tmp_path) -> None:
    """A benchmark-shaped folder (clips/*.mp4 + coco/annotations.json every 5 frames) sampled every 10 frames."""
    import av

    bench, rng = tmp_path / "bench", np.random.default_rng(3)
    (bench / "clips").mkdir(parents=True)
    frames, boxes = zip(*(product_frame(rng, (96, 128), boxed=True) for _ in range(25)))
    with av.open(str(bench / "clips" / "clip_0000.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=25, options={"qscale": "2"})
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    images = [{"id": n + 1, "file_name": f"frames/clip_0000/{i:05d}.jpg", "width": 128, "height": 96,
               "video": "clips/clip_0000.mp4", "frame_index": i} for n, i in enumerate(range(0, 25, 5))]
    annotations = [{"id": n + 1, "image_id": n + 1, "category_id": 0, "bbox": boxes[i], "area": 1, "iscrowd": 0}
                   for n, i in enumerate(range(0, 25, 5))]
    (bench / "coco").mkdir()
    (bench / "coco" / "annotations.json").write_text(json.dumps(
        {"images": images, "annotations": annotations, "categories": [{"id": 0, "name": "goods"}]}))

    path = coco_from_benchmark(bench, tmp_path / "out", stride=10)
    loaded = load_coco(path)
    assert [s.path.name for s in loaded.samples] == ["00000.jpg", "00010.jpg", "00020.jpg"]
    for sample, i in zip(loaded.samples, (0, 10, 20)):
        x, y, w, h = boxes[i]
        assert sample.boxes.tolist() == [[x, y, x + w, y + h]]
        decoded = sample.read().astype(np.float32)
        distances = [np.abs(decoded - frame).mean() for frame in frames]
        assert int(np.argmin(distances)) == i  # the clip's frame i, through the codec and JPEG
    with pytest.raises(ValueError, match="multiple of 5"):
        coco_from_benchmark(bench, tmp_path / "bad", stride=7)


# -- augmentation keeps boxes on the product --------------------------------------------------------------------

def test_augmented_boxes_follow_the_product() -> None:
    geometric = AugmentOptions(photometric=0, texture_fill=False, colour_cast=0, blur=0, noise=0, jpeg=0, patches=0, gray=0)
    source_rng, checked = np.random.default_rng(5), 0
    for seed in range(12):
        frame, (x, y, w, h) = product_frame(source_rng, (96, 128), boxed=True)
        image, boxes, labels = augment(frame, np.array([[x, y, x + w, y + h]], np.float32), np.array([0]), SIZE,
                                       np.random.default_rng(seed), geometric)
        assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8 and len(boxes) == len(labels) <= 1
        if len(boxes) and min(boxes[0, 2:] - boxes[0, :2]) >= 8:
            b, g, r = image.astype(int).transpose(2, 0, 1)
            product = (r > 200) & (np.abs(g - b) < 40)  # red, white and the pink between them
            x1, y1, x2, y2 = boxes[0]
            dx, dy = 0.2 * (x2 - x1), 0.2 * (y2 - y1)  # the core, clear of resampled edges
            core = product[int(y1 + dy) : int(np.ceil(y2 - dy)), int(x1 + dx) : int(np.ceil(x2 - dx))]
            assert core.mean() > 0.95, f"seed {seed}: the box left the product"
            checked += 1
    assert checked >= 8
    image, boxes, _ = augment(frame, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), SIZE,
                              np.random.default_rng(0), AugmentOptions())
    assert image.shape == (SIZE, SIZE, 3) and boxes.shape == (0, 4)


# -- training -------------------------------------------------------------------------------------------------

def test_loss_falls(data, tmp_path) -> None:
    """The same 8 frames each step (batch 8, no augmentation, no random denoising queries): the loss must fall."""
    recipe = tiny_recipe(data, tmp_path, batch=8, lr=2e-3, warmup_steps=1, denoising=0, augment=AugmentOptions.none())
    trainer = Trainer(recipe, log=lambda m: None)
    losses = [trainer.train_step()["loss"] for _ in range(16)]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_from_scratch_settings(data, tmp_path) -> None:
    trainer = Trainer(tiny_recipe(data, tmp_path), log=lambda m: None)
    config = trainer.model.config
    assert not config.freeze_backbone_batch_norms and config.initializer_bias_prior_prob == 0.01
    assert trainer.model.model.enc_score_head.bias.item() == pytest.approx(-4.595, abs=1e-3)
    assert not torch.any(trainer.model.bbox_embed[0].layers[-1].weight)  # the zeroed heads stay zero
    assert (config.weight_loss_vfl, config.weight_loss_bbox, config.weight_loss_giou, config.weight_loss_fgl,
            config.weight_loss_ddf) == (1.0, 5.0, 2.0, 0.15, 1.5)
    rates = {g["name"]: g["initial_lr"] for g in trainer.optimizer.param_groups}  # before the warm-up
    assert rates["backbone"] == rates["head"] == 2.5e-4
    assert {g["name"]: g["weight_decay"] for g in trainer.optimizer.param_groups}["head_norm"] == 0.0
    assert trainer.recipe.warmup_steps == 100 and trainer.recipe.ema_decay == 0.999
    pretrained = Recipe(data="d", val="v", out="o", init="ckpt").resolved()
    assert (pretrained.backbone_lr_scale, pretrained.warmup_steps, pretrained.ema_decay) == (0.1, 500, 0.9999)


def test_resume_continues_exactly(data, tmp_path) -> None:
    straight = Trainer(tiny_recipe(data, tmp_path / "a"), log=lambda m: None)
    straight_losses = [straight.train_step()["loss"] for _ in range(4)]

    first = Trainer(tiny_recipe(data, tmp_path / "b"), log=lambda m: None)
    losses = [first.train_step()["loss"] for _ in range(2)]
    first.save_checkpoint()
    resumed = Trainer(tiny_recipe(data, tmp_path / "b"), log=lambda m: None)
    resumed.load_checkpoint()
    assert resumed.step == 2 and resumed.scheduler.last_epoch == 2 and resumed.ema.updates == 2
    assert resumed.optimizer.state_dict()["state"][0]["step"] == 2 and len(resumed.commands) == 2
    losses += [resumed.train_step()["loss"] for _ in range(2)]

    assert losses == straight_losses
    for mine, theirs in ((resumed.model, straight.model), (resumed.ema.module, straight.ema.module)):
        want = theirs.state_dict()
        assert all(torch.equal(value, want[key]) for key, value in mine.state_dict().items())

    with pytest.raises(ValueError, match="batch: 4 -> 8"):
        Trainer(tiny_recipe(data, tmp_path / "b", batch=8), log=lambda m: None).load_checkpoint()


def test_early_stopping_on_validation_map(data, tmp_path, monkeypatch) -> None:
    scores = iter([0.1, 0.3, 0.2, 0.25, 0.29, 0.5])
    monkeypatch.setattr(Trainer, "evaluate", lambda self, model=None: {
        "mAP50:95": next(scores), "AP50": 0.0, "AP75": 0.0, "AR100": 0.0})
    result = Trainer(tiny_recipe(data, tmp_path, steps=20, eval_every=1, patience=3), log=lambda m: None).run(export=False)
    assert result.step == 5 and result.best["step"] == 2 and result.best["mAP50:95"] == 0.3
    assert result.report["stopped_by"] == "no better mAP50:95 in 3 evaluations"
    assert (tmp_path / "best" / "config.json").is_file()


def test_minutes_budget_stops_the_run(data, tmp_path) -> None:
    result = Trainer(tiny_recipe(data, tmp_path, steps=1000, minutes=1e-6), log=lambda m: None).run(export=False)
    assert result.step == 1 and result.report["stopped_by"] == "1e-06 minutes"
    assert [row["step"] for row in result.report["history"]] == [1]  # a last evaluation, kept as the best


def test_init_starts_from_a_checkpoint(data, tmp_path) -> None:
    """--init: a transformers checkpoint with other classes; class heads re-made, backbone frozen-BN and at lr / 10."""
    from export.dfine import tiny_dfine_config, tiny_dfine_model

    tiny_dfine_model(tiny_dfine_config(num_labels=3, num_queries=20), seed=4).save_pretrained(str(tmp_path / "ckpt"))
    trainer = Trainer(tiny_recipe(data, tmp_path / "run", init=str(tmp_path / "ckpt")), log=lambda m: None)
    assert trainer.model.config.num_labels == 1 and trainer.model.config.freeze_backbone_batch_norms
    rates = {g["name"]: g["initial_lr"] for g in trainer.optimizer.param_groups}
    assert rates["backbone"] == pytest.approx(rates["head"] / 10)
    source = load_dfine(tmp_path / "ckpt").state_dict()
    kept = [k for k, v in trainer.model.state_dict().items() if k in source and source[k].shape == v.shape]
    assert len(kept) > 100 and all(torch.equal(trainer.model.state_dict()[k], source[k]) for k in kept if "backbone" in k)
    assert np.isfinite(trainer.train_step()["loss"])


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    status = main(["train-detector", "--data", str(data[0]), "--val", str(data[1]), "--out", str(out), "--variant", "tiny",
                   "--input-size", str(SIZE), "--batch", "4", "--steps", "6", "--eval-every", "3", "--checkpoint-every", "3",
                   "--queries", "20", "--denoising", "10", "--seed", "3"])
    assert status == 0
    return out


def test_cli_writes_the_report(trained) -> None:
    report = json.loads((trained / "report.json").read_text())
    assert set(report["metrics"]) == {"mAP50:95", "AP50", "AP75", "AR100"}
    assert all(0.0 <= v <= 1.0 for v in report["metrics"].values())
    assert (report["steps"], report["seed"], report["input_size"], report["batch"]) == (6, 3, SIZE, 4)
    assert report["train_images"] == 8 and report["val_images"] == 4 and report["train_minutes"] >= 0
    assert [row["step"] for row in report["history"]] == [3, 6] and report["best_step"] in (3, 6)
    assert "train-detector" in report["command"] and "--seed" in report["command"] and report["commands"] == [report["command"]]
    assert json.loads((trained / "best" / "metrics.json").read_text())["step"] == report["best_step"]
    checkpoint = torch.load(trained / "checkpoints" / "last.pt", weights_only=False)
    assert checkpoint["step"] == 6 and {"model", "ema", "optimizer", "scheduler", "rng"} <= set(checkpoint)


def test_exported_onnx_is_the_best_ema_and_runs_in_the_edge(trained) -> None:
    path = trained / "detector.onnx"
    metadata = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert metadata[INPUT_SIZE_KEY] == str(SIZE)
    frames = [product_frame(np.random.default_rng(9), (96, 128), boxed=True)[0], np.full((200, 150, 3), 90, np.uint8)]
    detector = create_detector(DetectorConfig(model=path, threshold=0.0), threads=1)  # the side comes from the graph
    try:
        assert detector.input_size == SIZE
        found = detector.detect(frames)
    finally:
        detector.close()
    best = load_dfine(trained / "best")
    sizes = torch.tensor([(f.shape[1], f.shape[0]) for f in frames])
    with torch.no_grad():
        _, _, scores = DFineWithPostprocess(best)(torch.from_numpy(preprocess_frames(frames, SIZE)), sizes)
    for detections, want in zip(found, scores.numpy()):
        assert len(detections.xyxy) > 0 and (detections.class_id == 0).all()
        np.testing.assert_allclose(np.sort(detections.confidence), np.sort(want)[-len(detections.confidence):], atol=1e-4)


def test_eval_detector_scores_the_onnx_as_training_scored_its_weights(trained, data, tmp_path) -> None:
    figures = tmp_path / "figures.json"
    assert main(["eval-detector", str(trained / "detector.onnx"), "--data", str(data[1]), "--json", str(figures)]) == 0
    row = json.loads(figures.read_text())["models"][str(trained / "detector.onnx")]
    report = json.loads((trained / "report.json").read_text())
    for name, value in report["metrics"].items():  # the torch EMA at the best step, same frames, same evaluator
        assert row[name] == pytest.approx(value, abs=0.01), name
    assert row["frames"] == 4 and 0 <= row["top_box_over_0.5"] <= row["frames_with_product"] <= 4
