"""``liveguard`` as a user runs it: a real process, its stdout, stderr and exit status."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper
from workspace import DEMO, REPO

from edge.evidence import EVIDENCE_SCHEMA, RESULT_SCHEMA, schema_problem


def liveguard(*args: str, stderr: int = subprocess.PIPE) -> subprocess.CompletedProcess:
    """Runs the CLI; ``stderr`` may be a file descriptor (a terminal) instead of a pipe."""
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        timeout=300,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def no_asr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "no-asr.yaml"
    path.write_text("asr:\n  backend: none\n")
    return path


def wrong_signature_model(path: Path) -> Path:
    """A valid ONNX file whose outputs are not the D-FINE contract's (one ``logits`` output)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["logits"])],
        "classifier",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 640, 640])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, 640, 640])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def _bad_input(kind: str, tmp: Path) -> tuple[list[str], str]:
    """Arguments for one broken input, and the text that must name the culprit."""
    if kind == "missing file":
        return ["run", str(tmp / "nope.mp4")], "nope.mp4: file not found"
    if kind == "zero-byte file":
        (tmp / "empty.mp4").write_bytes(b"")
        return ["run", str(tmp / "empty.mp4")], "empty.mp4: file is empty"
    if kind == "text file renamed .mp4":
        (tmp / "notes.mp4").write_text("shopping list: milk, eggs\n" * 20)
        return ["run", str(tmp / "notes.mp4")], "notes.mp4: cannot open as a media file"
    if kind == "corrupt file":
        # the demo's container header followed by noise: it opens, nothing in it decodes
        data = DEMO.read_bytes()
        (tmp / "corrupt.mp4").write_bytes(data[:4096] + os.urandom(len(data) - 4096))
        return ["run", str(tmp / "corrupt.mp4")], "corrupt.mp4:"
    if kind == "model with the wrong signature":
        model = wrong_signature_model(tmp / "classifier.onnx")
        (tmp / "wrong-model.yaml").write_text(f"detector:\n  model: {model}\n")
        return ["run", "--config", str(tmp / "wrong-model.yaml"), str(DEMO)], "classifier.onnx: does not match the D-FINE detector contract"
    if kind == "YAML with an unknown key":
        (tmp / "unknown.yaml").write_text("sampling:\n  fsp: 3\n")
        return ["run", "--config", str(tmp / "unknown.yaml"), str(DEMO)], "unknown.yaml: sampling.fsp: unknown key"
    if kind == "YAML with a wrong type":
        (tmp / "wrongtype.yaml").write_text("selection:\n  top_k: three\n")
        return ["run", "--config", str(tmp / "wrongtype.yaml"), str(DEMO)], 'wrongtype.yaml: selection.top_k = "three"'
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "missing file",
        "zero-byte file",
        "text file renamed .mp4",
        "corrupt file",
        "model with the wrong signature",
        "YAML with an unknown key",
        "YAML with a wrong type",
    ],
)
def test_bad_input_gets_one_line_naming_the_culprit(kind: str, tmp_path: Path) -> None:
    args, culprit = _bad_input(kind, tmp_path)
    done = liveguard(*args)
    assert done.returncode not in (0, None)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("liveguard: error: ")
    assert culprit in lines[0]
    assert "Traceback" not in done.stderr


def test_one_json_line_per_input_and_a_bad_input_does_not_stop_the_others(no_asr: Path, tmp_path: Path) -> None:
    done = liveguard("run", "--config", str(no_asr), str(tmp_path / "gone.mp4"), str(DEMO), "--timings", "--evidence", str(tmp_path / "ev"))
    assert done.returncode == 3  # the failed input's exit status (a source error)
    assert done.stderr.strip() == f"liveguard: error: {tmp_path / 'gone.mp4'}: file not found"  # no progress bar when piped
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    assert result["source"] == "demo.mp4" and result["brand"] == "AURORA"
    assert schema_problem(result, RESULT_SCHEMA) is None
    assert set(result["timings"]) >= {"decode", "detect", "score", "ocr", "asr", "fusion", "total"}
    assert result["timings"]["ocr"] > 0 and result["timings"]["decode"] > 0
    evidence_files = list((tmp_path / "ev").glob("*.evidence.json"))
    assert [p.name for p in evidence_files] == [f"{result['evidence_id']}.evidence.json"]
    evidence = json.loads(evidence_files[0].read_text())
    assert schema_problem(evidence, EVIDENCE_SCHEMA) is None
    (jpeg,) = (tmp_path / "ev").glob("*.jpg")
    import hashlib

    assert hashlib.sha256(jpeg.read_bytes()).hexdigest() == evidence["keyframes"][0]["jpeg_sha256"]


def test_strategy_and_top_k_flags_override_the_config(no_asr: Path, tmp_path: Path) -> None:
    done = liveguard("run", "-c", str(no_asr), "--strategy", "A", "--top-k", "2", str(DEMO), "--evidence", str(tmp_path))
    assert done.returncode == 0, done.stderr
    evidence = json.loads(next(tmp_path.glob("*.evidence.json")).read_text())
    assert evidence["selection"]["strategy"] == "A"
    assert evidence["selection"]["top_k"] == 2 and len(evidence["keyframes"]) == 2
    for flags, problem in [(["--top-k", "0"], "selection.top_k = 0"), (["--strategy", "baseline", "--top-k", "2"], "baseline")]:
        bad = liveguard("run", "-c", str(no_asr), *flags, str(DEMO))
        assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1, bad.stderr
        assert bad.stderr.startswith(f"liveguard: error: {no_asr}: ") and problem in bad.stderr


def test_progress_bar_on_a_terminal(no_asr: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = liveguard("run", "-c", str(no_asr), str(DEMO), stderr=follower)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO once the terminal is drained and closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    shown = b"".join(chunks).decode(errors="replace")
    assert "demo.mp4" in shown and "/20 [" in shown  # tqdm's bar: name and frames done/expected
    assert len(done.stdout.splitlines()) == 1 and json.loads(done.stdout)["brand"] == "AURORA"


def test_config_check_and_schema(tmp_path: Path) -> None:
    good = tmp_path / "site.yaml"
    good.write_text("sampling:\n  fps: 3\nselection:\n  top_k: 3\n")
    done = liveguard("config", "check", str(good))
    assert done.returncode == 0 and done.stdout.strip() == f"{good}: OK"
    schema = json.loads(liveguard("config", "schema").stdout)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["sampling"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("scoring:\n  w_d: 0.9\n")
    done = liveguard("config", "check", str(bad))
    assert done.returncode == 2 and done.stderr.startswith(f"liveguard: error: {bad}: scoring")
    assert "w_d + w_s must equal 1" in done.stderr
