"""One clip end to end: render, speak, encode, write the truth JSON."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livegen.draw import find_font
from livegen.encode import encode
from livegen.overlay import LiveRoomSpec
from livegen.products import DEMO_PRODUCT
from livegen.render import ProductSpec, RenderedFrame, build_assets, render_frames
from livegen.scene import ClipSpec, Pose, demo_pose
from livegen.speech import mix_audio, synthesize_speech
from livegen.truth import dump_truth, truth_path_for, truth_record


@dataclass(frozen=True)
class AudioSpec:
    """The clip's sound: espeak-ng ``voice`` (``en-us``, ``cmn``), room noise and music levels (dBFS RMS).

    ``present`` False writes a clip without an audio stream.
    """

    voice: str = "en-us"
    wpm: int = 150
    noise_db: float = -42.0
    music_db: float | None = None
    present: bool = True


DEFAULT_LIVE = LiveRoomSpec()
DEFAULT_CLIP = ClipSpec()


def make_clip(
    out: Path,
    seed: int = 7,
    *,
    product: ProductSpec = DEMO_PRODUCT,
    live: LiveRoomSpec = DEFAULT_LIVE,
    clip: ClipSpec = DEFAULT_CLIP,
    pose_at: Callable[[ClipSpec, float], Pose] = demo_pose,
    truth_out: Path | None = None,
    font_path: Path | None = None,
    audio_spec: AudioSpec = AudioSpec(),
    extra_truth: dict | None = None,
    on_frame: Callable[[RenderedFrame], None] | None = None,
) -> dict:
    """Render, speak and encode one clip; write its truth JSON; return the truth record.

    ``extra_truth`` keys are added to the record; ``on_frame`` sees every rendered frame with its pixels
    (the benchmark saves some for detector training).
    """
    font_path = font_path or find_font()
    assets = build_assets(product, live, clip, seed, font_path)
    audio = None
    if audio_spec.present:
        speech, rate = synthesize_speech(
            product.speech, voice=audio_spec.voice, wpm=audio_spec.wpm, max_seconds=clip.duration - clip.speech_start - 0.3
        )
        audio = mix_audio(
            speech, rate, start=clip.speech_start, duration=clip.duration, seed=seed,
            noise_db=audio_spec.noise_db, music_db=audio_spec.music_db,
        )
    else:
        rate = 16000
    rendered: list[RenderedFrame] = []

    def images() -> Iterator[np.ndarray]:
        for f in render_frames(assets, clip, live, seed, pose_at):
            if on_frame is not None:
                on_frame(f)
            rendered.append(dataclasses.replace(f, image=np.empty(0, np.uint8)))  # keep facts, drop pixels
            yield f.image

    encode(images(), audio, rate, out, width=clip.width, height=clip.height, fps=clip.fps)
    truth = truth_record(product, clip, live, rendered, seed)
    if not audio_spec.present:
        truth["speech"], truth["speech_start"] = None, None
    truth.update(extra_truth or {})
    dump_truth(truth, truth_out or truth_path_for(out))
    return truth


def frame_digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


