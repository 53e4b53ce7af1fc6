"""Generate the bundled synthetic livestream demo clip and its ground truth.

    python tools/make_sample_clip.py --out samples/demo.mp4 [--seed 7]

writes a vertical 540x960, 25 fps, 10 s H.264/AAC clip of a streamer showing a product package,
plus ``samples/demo.truth.json`` (the product record, the speech, the time ranges where the product
is sharp, frontal and fully visible, the transition start and per-frame annotations). The clip
exercises frame scoring (paper §3.3): motion-blurred swings, camera defocus, a hand over the label,
a sharp-but-turned segment, an always-sharp live-room overlay (distractor text for OCR) and a final
slide to a "next product" card, so that the last frame (the paper's baseline) is a poor pick.

Output is a pure function of the seed: every frame draws its randomness from its own
``numpy.random.default_rng((seed, frame_index, stream))`` and the encoder runs bit-exact. The renderer
lives in ``tools/livegen`` and is shared with the benchmark generator (``tools/make_benchmark.py``);
this script is the demo's recipe and re-exports the renderer's pieces for its tests.

Needs ffmpeg (libx264, aac), espeak-ng and a bold TTF (Debian: ``fonts-dejavu-core``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: the shared renderer, livegen

from livegen.clip import frame_digest, make_clip  # noqa: E402
from livegen.draw import find_font, fit_font  # noqa: E402
from livegen.encode import encode  # noqa: E402
from livegen.overlay import ChatMessage, LiveRoomSpec, overlay_ui, render_ui  # noqa: E402
from livegen.products import DEMO_PRODUCT  # noqa: E402
from livegen.render import (  # noqa: E402
    PackageStyle,
    ProductSpec,
    RenderedFrame,
    build_assets,
    camera_effects,
    render_background,
    render_frame,
    render_frames,
    render_package,
)
from livegen.scene import ClipSpec, Pose, Segment, demo_pose  # noqa: E402
from livegen.speech import mix_audio, synthesize_speech  # noqa: E402
from livegen.truth import dump_truth, truth_path_for, truth_record  # noqa: E402

__all__ = [
    "DEMO_PRODUCT", "ChatMessage", "ClipSpec", "LiveRoomSpec", "PackageStyle", "Pose", "ProductSpec",
    "RenderedFrame", "Segment", "build_assets", "camera_effects", "demo_pose", "dump_truth", "encode",
    "find_font", "fit_font", "frame_digest", "make_clip", "mix_audio", "overlay_ui", "render_background",
    "render_frame", "render_frames", "render_package", "render_ui", "synthesize_speech", "truth_path_for",
    "truth_record",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("samples/demo.mp4"), help="output .mp4 (default samples/demo.mp4)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7); same seed, same clip")
    ap.add_argument("--truth", type=Path, default=None, help="truth JSON path (default: <out stem>.truth.json beside the clip)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        truth = make_clip(args.out, args.seed, truth_out=args.truth)
    except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"make_sample_clip: {exc}", file=sys.stderr)
        return 1
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1e6:.2f} MB) and {args.truth or truth_path_for(args.out)} "
        f"in {time.perf_counter() - t0:.1f} s; best frames {truth['best_frames']}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
