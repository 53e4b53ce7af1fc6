"""How many spoken claims the claim rules find in Whisper's transcripts, with and without the claim hotwords.

    python tools/asr_hotwords.py out/bench-claims [out/bench-claims37 ...]

For every clip with sound of a claims benchmark (``make_benchmark.py --claims``), transcribes the audio three ways:
``plain`` (any of Whisper's languages, no hotwords: the defaults before ``asr.languages``), ``languages`` (detection
among ``asr.languages``: the defaults) and ``hotwords`` (that, and the claim terms of the detected language as
hotwords: ``asr.claim_hotwords: true``), screens each transcript with the shipped rule sets, and counts per rule
family the spoken claims of the truth found (TP), missed (FN), and families flagged that no spoken claim of the truth
says (FP). ASR only: no detector, OCR or fusion. Prints a line per clip with a spoken claim or a flag, then the counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from edge.asr import create_transcriber
from edge.claims import Reading, asr_vocabulary, screen, screening_for
from edge.config import Config
from edge.config.models import WhisperAsrConfig
from edge.sources import VideoFile
from edge.types import AudioChunk

WAYS = {
    "plain": WhisperAsrConfig(languages=None, claim_hotwords=False),
    "languages": WhisperAsrConfig(claim_hotwords=False),
    "hotwords": WhisperAsrConfig(claim_hotwords=True),
}
TERM_FAMILIES = ("absolute", "medical", "authority")  # price claims are numbers the rules compare, not terms


def spoken_families(truth: dict) -> set[str]:
    return {c["family"] for c in truth.get("claims") or () if c.get("modality") == "asr" and c["family"] in TERM_FAMILIES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", type=Path, nargs="+", help="folders written by tools/make_benchmark.py --claims")
    args = ap.parse_args(argv)
    claims = Config().claims
    rule_sets = screening_for(claims).rule_sets
    transcribers = {name: create_transcriber(cfg, threads=2, vocabulary=asr_vocabulary(claims)) for name, cfg in WAYS.items()}
    counts = {name: Counter() for name in WAYS}
    clips = 0
    for dataset in args.datasets:
        manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
        for row in manifest["clips"]:
            truth = json.loads((dataset / row["truth"]).read_text(encoding="utf-8"))
            with VideoFile(dataset / row["video"], 2.0, audio_chunk_seconds=30.0) as video:
                chunks = [item.samples for item in video if isinstance(item, AudioChunk)]
            if not chunks:
                continue
            clips += 1
            said, audio = spoken_families(truth), np.concatenate(chunks)
            report, flagged = [], False
            for name, transcriber in transcribers.items():
                transcript = transcriber.transcribe(audio)
                flags = screen(rule_sets, [Reading(transcript.text, "asr")], every_department=True, checks=False)
                found = {f.family for f in flags if f.family in TERM_FAMILIES}
                counts[name].update(tp=len(said & found), fn=len(said - found), fp=len(found - said))
                flagged = flagged or bool(found)
                report.append(f"  {name:9} [{transcript.language}] {transcript.text[:100]!r} {sorted(found)}")
            if said or flagged:
                print(f"{dataset.name}/{row['id']} said {sorted(said)}", *report, sep="\n", flush=True)
    print(f"\n{clips} clips with sound")
    for name, c in counts.items():
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        print(f"{name:9} spoken claims found {c['tp']} of {c['tp'] + c['fn']} (recall {recall:.2f}), families flagged unsaid {c['fp']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
