"""The demo-clip generator (tools/make_sample_clip.py): a real clip, encoded by ffmpeg, decoded by PyAV.

One clip is generated through the CLI into a temporary folder (about 10-15 s on 2 cores) and shared
by the tests; determinism is checked on raw rendered frames (before encoding) and on short encodes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from workspace import REPO, needs_media_tools

av = pytest.importorskip("av")

SCRIPT = REPO / "tools" / "make_sample_clip.py"

pytestmark = needs_media_tools


def _load_module():
    spec = importlib.util.spec_from_file_location("make_sample_clip", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_sample_clip", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    module = _load_module()
    try:
        module.find_font()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    return module


@pytest.fixture(scope="module")
def clip(tmp_path_factory, gen):
    """Generate a clip with seed 7 through the CLI; return its path and truth."""
    out = tmp_path_factory.mktemp("clip") / "demo.mp4"
    res = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--seed", "7"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    truth = json.loads(out.with_name("demo.truth.json").read_text(encoding="utf-8"))
    return out, truth


@pytest.fixture(scope="module")
def decoded(clip):
    """All decoded frames (BGR) and the mono audio of the generated clip."""
    path, _ = clip
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    audio = np.concatenate([c.reshape(-1) if c.shape[0] == 1 else c.mean(axis=0) for c in chunks])
    return frames, audio.astype(np.float32), rate


def _lap_var(image: np.ndarray, box) -> float:
    x1, y1, x2, y2 = box
    gray = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _frame_in(truth: dict, t: float) -> dict:
    return truth["frames"][int(round(t * truth["video"]["fps"]))]


def test_clip_format(clip):
    path, _ = clip
    assert path.stat().st_size < 1.5e6
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        assert (v.codec_context.name, v.codec_context.width, v.codec_context.height) == ("h264", 540, 960)
        assert v.codec_context.pix_fmt == "yuv420p"
        assert v.average_rate == 25
        assert container.duration / 1e6 == pytest.approx(10.0, abs=0.1)
        assert len(container.streams.audio) == 1
        a = container.streams.audio[0]
        assert a.codec_context.name == "aac" and a.channels == 1
    # faststart: the movie header precedes the media data
    head = path.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head


def test_decodes_fully_with_speech_after_half_a_second(decoded):
    frames, audio, rate = decoded
    assert len(frames) == 250 and frames[0].shape == (960, 540, 3)
    assert len(audio) / rate == pytest.approx(10.0, abs=0.1)
    rms = lambda a, b: float(np.sqrt(np.mean(audio[int(a * rate) : int(b * rate)] ** 2)))  # noqa: E731
    assert rms(1.0, 8.0) > 5 * rms(0.0, 0.4)  # quiet room tone, then speech
    assert rms(0.0, 0.4) > 0  # the noise bed is there


def test_truth_record(clip):
    _, truth = clip
    assert truth["brand"] == "AURORA"
    assert truth["product_name"] == "Hydra Glow Face Cream"
    assert truth["category"] and truth["price"] == "¥129"
    assert truth["key_attributes"]["volume"] == "50 ml"
    assert "Aurora Hydra Glow Face Cream" in truth["speech"]
    assert truth["video"] == {"width": 540, "height": 960, "fps": 25, "duration": 10.0, "frame_count": 250}
    assert len(truth["frames"]) == 250
    ranges = truth["best_frames"]
    assert ranges and all(0 <= a <= b <= 10 for a, b in ranges)
    assert max(b - a for a, b in ranges) >= 1.5
    assert 8.5 <= truth["transition_start"] <= 9.5
    assert all(b < truth["transition_start"] for _, b in ranges)
    for a, b in ranges:  # every frame in a best range is clean by the per-frame facts
        for f in truth["frames"]:
            if a <= f["t"] <= b:
                assert f["box"] and f["in_frame"] == 1.0 and f["motion_blur_px"] < 1.5 and f["defocus_px"] == 0
                assert f["occluded"] == 0 and abs(f["yaw"]) <= 8
    assert truth["frames"][-1]["box"] is None  # the last frame shows the next-product card


def test_best_frame_much_sharper_than_blurred_ones(clip, decoded):
    _, truth = clip
    frames, _, _ = decoded
    a, b = max(truth["best_frames"], key=lambda r: r[1] - r[0])
    best = _frame_in(truth, (a + b) / 2)
    swing = max(truth["frames"], key=lambda f: f["motion_blur_px"] if f["in_frame"] == 1.0 else 0)
    defocus = max(truth["frames"], key=lambda f: f["defocus_px"])
    assert swing["motion_blur_px"] > 20 and defocus["defocus_px"] > 5
    sharp_var = _lap_var(frames[best["i"]], best["box"])
    assert sharp_var > 5 * _lap_var(frames[swing["i"]], swing["box"])
    assert sharp_var > 5 * _lap_var(frames[defocus["i"]], defocus["box"])
    # the live-room price banner is drawn after the camera effects: as sharp in the blurred frame
    banner = (20, 960 - 64 - 22, 520, 960 - 22)
    assert _lap_var(frames[swing["i"]], banner) > 0.8 * _lap_var(frames[best["i"]], banner)


def test_same_seed_same_frames_other_seed_other_frames(gen, decoded):
    frames, _, _ = decoded
    clip_spec, live = gen.ClipSpec(), gen.LiveRoomSpec()
    font = gen.find_font()
    indices = (0, 40, 95, 168, 215)  # not the final card: broadcast graphics carry no camera noise

    def digests(seed: int) -> list[str]:
        assets = gen.build_assets(gen.DEMO_PRODUCT, live, clip_spec, seed, font)
        return [gen.frame_digest(gen.render_frame(assets, clip_spec, live, seed, i).image) for i in indices]

    first, again, other = digests(7), digests(7), digests(8)
    assert first == again
    assert all(x != y for x, y in zip(first, other))
    # the encoded clip holds these frames (lossy: compare by PSNR)
    assets = gen.build_assets(gen.DEMO_PRODUCT, live, clip_spec, 7, font)
    raw = gen.render_frame(assets, clip_spec, live, 7, 95).image
    assert cv2.PSNR(raw, frames[95]) > 30


def test_encoding_is_bit_exact(gen, tmp_path):
    """Same frames and audio in, same bytes out (so a regenerated sample does not churn in git)."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (96, 64, 3), np.uint8) for _ in range(10)]
    audio = rng.normal(0, 0.05, 16000).astype(np.float32)
    digests = []
    for name in ("a.mp4", "b.mp4"):
        gen.encode(iter(images), audio, 16000, tmp_path / name, width=64, height=96, fps=25)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
