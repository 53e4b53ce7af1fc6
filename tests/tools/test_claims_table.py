"""Claims screening scored per rule family (tools/livebench/claims.py, tools/claims_table.py, issue 15), on
hand-made truths and results: a false positive, a miss, a near miss and the price mismatch's two values
each move the figures they should, and nothing else."""

from __future__ import annotations

import csv
import json

import pytest
from claims_table import claims_tables
from claims_table import main as claims_main
from livebench.claims import ClaimScores, table_families, table_modalities


def claim(family, modality="ocr", **extra):
    return {"family": family, "rule": f"{family}-rule", "rule_set": "generic-en", "modality": modality, "text": "x", **extra}


def flag(family, modality="ocr", **extra):
    return {"family": family, "rule": f"{family}-rule", "rule_set": "generic-en", "modality": modality, "matched": "x", "text": "x",
            **extra}


def truth(language, claims, **extra):
    return {"language": language, "claims": claims, **extra}


def test_one_false_positive_lowers_precision_to_the_exact_fraction():
    scores = ClaimScores()
    for _ in range(4):  # four clips that claim the best and are flagged for it
        scores.add(truth("en", [claim("absolute")]), [flag("absolute")])
    scores.add(truth("en", []), [flag("absolute")])  # a clean clip flagged: one false positive
    scores.add(truth("zh", []), [])
    c = scores.get("absolute")
    assert (c.clips, c.tp, c.fp, c.fn) == (6, 4, 1, 0)
    assert c.precision == pytest.approx(4 / 5) and c.recall == 1.0
    assert scores.get("absolute", "en").clips == 5 and scores.get("absolute", "zh").precision is None
    assert scores.get("medical").precision is None and scores.get("medical").recall is None


def test_a_miss_lowers_recall_and_modalities_are_counted_apart():
    scores = ClaimScores()
    scores.add(truth("zh", [claim("medical", "asr")]), [])  # said, not heard: a miss
    scores.add(truth("zh", [claim("medical", "ocr")]), [flag("medical", "ocr")])
    scores.add(truth("zh", [claim("medical", "ocr")]), [flag("medical", "asr")])  # found, but in the speech
    assert (scores.get("medical").tp, scores.get("medical").fn) == (2, 1)
    assert scores.get("medical").recall == pytest.approx(2 / 3) and scores.get("medical", "zh").recall == pytest.approx(2 / 3)
    asr, ocr = scores.get("medical", modality="asr"), scores.get("medical", modality="ocr")
    assert (asr.tp, asr.fp, asr.fn) == (0, 1, 1) and (ocr.tp, ocr.fp, ocr.fn) == (1, 0, 1)
    header, rows = table_modalities(scores)
    assert [r[:3] for r in rows] == [["medical", m, g] for m in ("asr", "ocr") for g in ("all", "zh")]
    assert rows[2][header.index("Recall")] == "0.500"


def test_families_in_the_table_are_those_named_and_a_flag_of_another_family_is_no_hit():
    scores = ClaimScores()
    scores.add(truth("en", [claim("authority")]), [flag("absolute")])
    scores.add(truth("en", [claim("price", "asr", rule="price-mismatch", spoken="¥99", shown="¥129")]),
               [flag("price", "asr", values={"spoken": ["¥99"], "shown": ["¥129"]})])
    scores.add(truth("en", [claim("price", "asr", rule="price-mismatch", spoken="¥89", shown="¥129")]),
               [flag("price", "asr", values={"spoken": ["¥80"], "shown": ["¥129"]})])  # flagged, the spoken value misheard
    assert (scores.get("authority").fn, scores.get("absolute").fp) == (1, 1)
    assert scores.get("price").recall == 1.0 and scores.mismatches == [True, False]
    header, rows = table_families(scores)
    assert [r[0] for r in rows] == ["absolute", "absolute", "authority", "authority", "price", "price"]
    assert [r[1] for r in rows[:2]] == ["all", "en"]


def test_near_misses_count_the_clips_flagged_for_their_family():
    scores = ClaimScores()
    scores.add(truth("en", [], near_misses=[{"family": "medical", "modality": "asr", "text": "It does not cure anything."}]), [])
    scores.add(truth("en", [], near_misses=[{"family": "medical", "modality": "ocr", "text": "NOT INTENDED TO TREAT"}]),
               [flag("medical")])
    assert scores.near[("medical", "all")] == [2, 1] and scores.get("medical").fp == 1


def _evaluation(tmp_path, clips):
    """A benchmark folder and an evaluation folder: ``clips`` is [(clip id, truth, flags or None), ...]."""
    bench, evaluation = tmp_path / "bench", tmp_path / "eval"
    (bench / "clips").mkdir(parents=True)
    evaluation.mkdir()
    rows = []
    with (evaluation / "results.jsonl").open("w", encoding="utf-8") as out:
        for cid, t, flags in clips:
            (bench / "clips" / f"{cid}.truth.json").write_text(json.dumps({"clip_id": cid, **t}, ensure_ascii=False), encoding="utf-8")
            rows.append({"id": cid, "video": f"clips/{cid}.mp4", "truth": f"clips/{cid}.truth.json"})
            result = {"brand": "b"} if flags is None else {"brand": "b", "claims": flags}
            for variant in ("baseline", "A@1", "A@3"):  # only A@1 counts
                out.write(json.dumps({"clip": cid, "detector": "oracle", "variant": variant,
                                      "result": result if variant == "A@1" else {"claims": [flag("medical")]}}) + "\n")
    (bench / "manifest.json").write_text(json.dumps({"clips": rows}), encoding="utf-8")
    return bench, evaluation


def test_the_cli_reads_a1_rows_skips_clips_made_without_claims_and_writes_the_csv(tmp_path, capsys):
    bench, evaluation = _evaluation(tmp_path, [
        ("clip_0000", truth("zh", [claim("absolute")]), [flag("absolute")]),
        ("clip_0001", truth("zh", [claim("absolute")]), [flag("absolute")]),
        ("clip_0002", truth("en", []), [flag("absolute")]),
        ("clip_0003", {"language": "en"}, []),  # made without --claims
    ])
    assert claims_main([str(evaluation), "--dataset", str(bench), "--detector", "oracle"]) == 0
    text = capsys.readouterr().out
    assert "1 clip(s) skipped: their truth has no claims" in text and "3 clips scored" in text
    assert "| absolute | all | 3 | 2 | 2 | 1 | 0 | 0.667 | 1.000 |" in text
    assert "medical" not in text  # the A@3 and baseline rows' flags are not read
    with (evaluation / "table_claims_oracle.csv").open(encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0][:3] == ["Family", "Language", "Clips"] and table[1] == ["absolute", "all", "3", "2", "2", "1", "0", "0.667", "1.000"]
    assert (evaluation / "table_claims_modality_oracle.csv").is_file()


def test_results_without_claims_are_counted_as_unscreened_and_an_unknown_detector_is_an_error(tmp_path):
    bench, evaluation = _evaluation(tmp_path, [("clip_0000", truth("en", [claim("price")]), None)])
    text = claims_tables(evaluation, bench, "oracle")
    assert "1 clip(s) skipped: their result carries no claims" in text and "No clip to score." in text
    with pytest.raises(SystemExit, match="no A@1 rows for detector"):
        claims_tables(evaluation, bench, "bundled:detector.onnx")
