"""The spoken prices Whisper writes for a benchmark's clips, without and with an ``asr.prompt``.

    python tools/asr_prompt.py out/bench-claims-price --prompt "Prices are in yuan: only 99 yuan."

prints, per clip, the price its truth says was spoken (a claims benchmark's spoken price, else the
product's price) and the prices found in the transcript without the prompt and with it, then how many
transcripts hold the spoken price. ASR only: no detector, OCR or fusion.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from edge.asr import create_transcriber
from edge.claims.match import Reading, prices_in
from edge.config.models import WhisperAsrConfig
from edge.sources import VideoFile
from edge.types import AudioChunk


def spoken_price(truth: dict) -> str:
    claims = [c for c in truth.get("claims") or () if c.get("rule") == "price-mismatch"]
    return claims[0]["spoken"] if claims else truth["price"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, help="a folder written by tools/make_benchmark.py")
    ap.add_argument("--prompt", required=True, help="the asr.prompt to compare with none")
    args = ap.parse_args(argv)
    manifest = json.loads((args.dataset / "manifest.json").read_text(encoding="utf-8"))
    transcribers = {name: create_transcriber(WhisperAsrConfig(prompt=prompt), threads=2)
                    for name, prompt in (("none", None), ("prompt", args.prompt))}
    right = dict.fromkeys(transcribers, 0)
    for row in manifest["clips"]:
        truth = json.loads((args.dataset / row["truth"]).read_text(encoding="utf-8"))
        with VideoFile(args.dataset / row["video"], 2.0, audio_chunk_seconds=30.0) as video:
            chunks = [item.samples for item in video if isinstance(item, AudioChunk)]
        if not chunks:
            continue
        audio, said = np.concatenate(chunks), spoken_price(truth)
        found = {name: prices_in(Reading(t.transcribe(audio).text, "asr")) for name, t in transcribers.items()}
        for name, prices in found.items():
            right[name] += said in prices
        print(f"{row['id']}  said {said:>6}  none {found['none']}  prompt {found['prompt']}")
    print(f"spoken price in the transcript: none {right['none']}, prompt {right['prompt']} of {len(manifest['clips'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
