"""``python -m export`` end to end on tiny random models: files, reports, the model pack."""

from __future__ import annotations

import json

import pytest
from synthetic_frames import block_frames, write_frames

from edge.cli import main as liveguard
from edge.runtime import ModelPack

pytest.importorskip("torch")
pytest.importorskip("transformers")

from export.__main__ import main as export


def test_export_fp16_engine_declaration_and_listing(tmp_path, capsys) -> None:
    pack = tmp_path / "pack" / "manifest.yaml"
    held = write_frames(tmp_path / "held", block_frames(3, seed=2))
    assert export(["dfine", "--random", "tiny", "--input-size", "96", "-o", str(pack.parent / "detector.onnx"),
                   "--pack", str(pack), "--name", "detector"]) == 0
    assert export(["fp16", str(pack.parent / "detector.onnx"), "-o", str(pack.parent / "detector-fp16.onnx"),
                   "--holdout", str(held), "--report-json", str(tmp_path / "fp16.json"),
                   "--pack", str(pack), "--name", "detector-fp16"]) == 0
    assert export(["engine", "detector-trt", "--source", "detector-fp16", "--pack", str(pack),
                   "--batch", "1", "2", "4"]) == 0
    out = capsys.readouterr().out
    assert "bounds: met" in out and "liveguard engines build --pack" in out

    report = json.loads((tmp_path / "fp16.json").read_text())
    assert report["precision"] == "fp16" and report["violations"] == []
    loaded = ModelPack.load(pack)
    assert [e.name for e in loaded.entries] == ["detector", "detector-fp16", "detector-trt"]
    engine = loaded.get("detector-trt")
    assert engine.precision == "fp16" and engine.sha256 is None and engine.batch.max == 4
    assert loaded.get("detector").provenance["source"] == "random tiny"
    assert loaded.get("detector").inputs[0].shape == ["N", 3, 96, 96]

    assert liveguard(["engines", "list", "--pack", str(pack)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing] == ["detector", "detector-fp16", "detector-trt"]
    assert "ok" in listing[0] and "missing: not built yet" in listing[2]


def test_register_lists_a_copied_file_and_refuses_one_outside_the_pack(tmp_path, capsys) -> None:
    import hashlib

    pack = tmp_path / "pack" / "manifest.yaml"
    assert export(["quality", "--random", "--variant", "tiny", "--range", "0", "1", "-o", str(pack.parent / "q.onnx")]) == 0
    assert export(["register", str(pack.parent / "q.onnx"), "--pack", str(pack), "--name", "quality", "--source", "runs/q"]) == 0
    entry = ModelPack.load(pack).get("quality")
    assert entry.role == "quality" and entry.file == "q.onnx" and entry.provenance["source"] == "runs/q"
    assert entry.sha256 == hashlib.sha256((pack.parent / "q.onnx").read_bytes()).hexdigest()
    assert entry.metadata  # the raw-score range the runtime reads
    assert export(["quality", "--random", "--variant", "tiny", "--range", "0", "1", "-o", str(tmp_path / "elsewhere.onnx")]) == 0
    capsys.readouterr()
    assert export(["register", str(tmp_path / "elsewhere.onnx"), "--pack", str(pack)]) != 0
    assert "must lie under the pack's folder" in capsys.readouterr().err
    assert export(["register", str(tmp_path / "missing.onnx"), "--pack", str(pack)]) == 2


def test_int8_with_calibration_folder_fails_on_a_missed_bound(tmp_path, capsys) -> None:
    folder = tmp_path / "models"
    calib = write_frames(tmp_path / "calib", block_frames(4, seed=1))
    held = write_frames(tmp_path / "held", block_frames(3, seed=2))
    assert export(["dfine", "--random", "tiny", "--input-size", "96", "-o", str(folder / "d.onnx")]) == 0
    status = export(["int8", str(folder / "d.onnx"), "-o", str(folder / "d8.onnx"), "--calib", str(calib),
                     "--holdout", str(held)])
    out = capsys.readouterr().out
    assert "INT8 Q/DQ for tensorrt, calibrated on 4 images" in out
    # random weights miss the shipping bounds (see export.report); the gate says so and fails
    assert ("MISSED" in out) == (status == 1)
    assert export(["report", str(folder / "d.onnx"), str(folder / "d8.onnx"), "--holdout", str(held),
                   "--no-check"]) == 0


def test_errors_are_one_line(tmp_path, capsys) -> None:
    assert export(["dfine", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("export: error:") and "config.json" in err and "\n" not in err
    assert export(["int8", str(tmp_path / "x.onnx"), "-o", str(tmp_path / "y.onnx"), "--calib", str(tmp_path)]) != 0


def test_from_a_transformers_checkpoint_and_a_state_dict(tmp_path, capsys) -> None:
    import numpy as np
    import onnxruntime as ort
    import torch

    from export.dfine import tiny_dfine_model
    from export.efficientnet import efficientnet_v2_regressor

    checkpoint = tmp_path / "dfine-checkpoint"
    tiny_dfine_model(seed=3).save_pretrained(checkpoint)  # what fine-tuning or transformers' conversion leaves
    assert export(["dfine", str(checkpoint), "--input-size", "96", "-o", str(tmp_path / "d.onnx")]) == 0
    assert export(["dfine", "--random", "tiny", "--input-size", "96", "-o", str(tmp_path / "r.onnx")]) == 0
    feeds = {"images": np.random.default_rng(0).random((1, 3, 96, 96), dtype=np.float32),
             "orig_target_sizes": np.array([[640, 480]], np.int64)}
    run = lambda name: ort.InferenceSession(str(tmp_path / name), providers=["CPUExecutionProvider"]).run(None, feeds)
    assert not np.allclose(run("d.onnx")[2], run("r.onnx")[2])  # the checkpoint's weights, not a fresh init

    weights = tmp_path / "quality.pt"
    torch.save(efficientnet_v2_regressor("tiny", seed=7).state_dict(), weights)
    assert export(["quality", str(weights), "--variant", "tiny", "--range", "-1", "2", "--input-size", "96",
                   "-o", str(tmp_path / "q.onnx")]) == 0
    assert "range [-1.0, 2.0] in metadata" in capsys.readouterr().out
