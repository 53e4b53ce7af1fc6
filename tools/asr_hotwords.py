"""How many spoken claims the claim rules find in Whisper's transcripts, with and without the claims decoding.

    python tools/asr_hotwords.py out/bench-claims [out/bench-claims37 ...]

For every clip with sound of a claims benchmark (``make_benchmark.py --claims``), transcribes the audio three ways:
``plain`` (any of Whisper's languages, one decoding), ``languages`` (detection among ``asr.languages``, one decoding:
``asr.claim_hotwords: false``) and ``claims`` (that, and a second decoding given the claim terms of the detected
language as hotwords and its ``asr.claim_prompts``: the defaults), screens each transcript (the claims decoding's
segments too) with the shipped rule sets, and counts per rule family the spoken claims of the truth found (TP), missed
(FN), and families flagged that no spoken claim of the truth says (FP), and the clips whose spoken price (the truth's)
a screened text states. ASR only: no detector, OCR or fusion. Prints a line per clip with a spoken claim or a flag,
then the counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from asr_prompt import spoken_price  # tools/ is on sys.path when a tool runs

from edge.asr import create_transcriber
from edge.claims import Reading, asr_vocabulary, screen, screening_for, screens_claims_decoding
from edge.claims.match import prices_in
from edge.config import Config
from edge.config.models import WhisperAsrConfig
from edge.sources import VideoFile
from edge.types import AudioChunk, Transcript

WAYS = {
    "plain": WhisperAsrConfig(languages=None, claim_hotwords=False),
    "languages": WhisperAsrConfig(claim_hotwords=False),
    "claims": WhisperAsrConfig(),
}
TERM_FAMILIES = ("absolute", "medical", "authority")  # price claims are numbers the rules compare, not terms


def spoken_families(truth: dict) -> set[str]:
    return {c["family"] for c in truth.get("claims") or () if c.get("modality") == "asr" and c["family"] in TERM_FAMILIES}


def readings(transcript: Transcript, shown: str) -> list[Reading]:
    """The texts screened: the transcript's, and the claims decoding's segments where the screening would take them
    (``shown``: the language of the clip's pack and live room, the truth's)."""
    told = transcript.claim_segments if screens_claims_decoding(transcript.language, shown) else ()
    return [Reading(transcript.text, "asr"), *(Reading(s.text, "asr", told=True) for s in told)]


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
                screened = readings(transcript, truth["language"])
                flags = screen(rule_sets, screened, every_department=True, checks=False)
                found = {f.family for f in flags if f.family in TERM_FAMILIES}
                priced = any(spoken_price(truth) in prices_in(r) for r in screened)
                counts[name].update(tp=len(said & found), fn=len(said - found), fp=len(found - said), price=priced)
                flagged = flagged or bool(found)
                told = " | " + " ".join(s.text for s in transcript.claim_segments)[:100] if transcript.claim_segments else ""
                report.append(f"  {name:9} [{transcript.language}] {transcript.text[:100]!r}{told} {sorted(found)} price {priced}")
            if said or flagged:
                print(f"{dataset.name}/{row['id']} said {sorted(said)}", *report, sep="\n", flush=True)
    print(f"\n{clips} clips with sound")
    for name, c in counts.items():
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan")
        print(f"{name:9} spoken claims found {c['tp']} of {c['tp'] + c['fn']} (recall {recall:.2f}), families flagged unsaid {c['fp']}, "
              f"spoken price stated in {c['price']} of {clips} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
