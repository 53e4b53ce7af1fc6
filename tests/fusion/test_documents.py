"""The typed view of the evidence, the one result header every engine writes, and the engines' life cycle."""

import pytest

from edge.config import Config
from edge.evidence import RESULT_SCHEMA, schema_problem
from edge.fusion import EvidenceView, FusionEngine, create_fusion, create_vl_reader, fuse_local
from edge.fusion.documents import FIELDS, MODALITIES, Decision, EvidenceLine, VlReading, result_record

READING = {"model": "qwen-vl-plus", "frame_index": 0, "box": None, "brand": "Kira", "product_name": "Kira lip tint",
           "category": "Makeup", "description": "a red tube", "confidence": 1, "error": None}
FAILED = {**READING, "brand": None, "product_name": None, "category": None, "description": None, "confidence": None,
          "error": "qwen-vl-plus: HTTP 503"}


def test_the_view_types_what_fusion_reads(make_evidence, make_line):
    ev = make_evidence([make_line(" AURORA ", 0.98, height=60, top=50, frames=(0, 2))], speech="the Aurora cream", vl=READING)
    view = EvidenceView.from_document(ev)
    assert (view.id, view.source, view.speech) == (ev["id"], "demo.mp4", "the Aurora cream")
    (line,) = view.ocr_lines
    assert line == EvidenceLine(" AURORA ", 0.98, True, ((10.0, 50.0), (200.0, 50.0), (200.0, 110.0), (10.0, 110.0)), (0, 2))
    assert line.bounds == (10.0, 50.0, 200.0, 110.0) and line.height == 60.0
    assert view.vl == VlReading("qwen-vl-plus", "Kira", "Kira lip tint", "Makeup", "a red tube", 1, None)
    assert view.vl_error is None and view.modalities_present() == MODALITIES


def test_a_line_without_a_box_has_no_bounds(make_evidence, make_line):
    raw = make_line("AURORA")
    del raw["box"]
    (line,) = EvidenceView.from_document(make_evidence([raw])).ocr_lines
    assert line.box == () and line.bounds is None and line.height is None


@pytest.mark.parametrize(
    "lines, speech, vl, present",
    [
        ((), "", None, ()),
        ((), "   ", None, ()),  # whitespace is no speech
        (("AURORA",), "", FAILED, ("ocr",)),  # a failed VL call is no reading
        ((), "hello", READING, ("vl", "asr")),
    ],
)
def test_modalities_present(make_evidence, make_line, lines, speech, vl, present):
    view = EvidenceView.from_document(make_evidence([make_line(t) for t in lines], speech=speech, vl=vl))
    assert view.modalities_present() == present


def test_a_failed_vl_call_is_named(make_evidence):
    view = EvidenceView.from_document(make_evidence(vl=FAILED))
    assert view.vl is not None and view.vl_error == "qwen-vl-plus: HTTP 503"


def test_result_record_header_and_empty_fields(make_evidence):
    view = EvidenceView.from_document(make_evidence())
    result = result_record(view, "some-engine", {"brand": Decision("AURORA", 0.9, ("ocr", "asr"))})
    assert schema_problem(result, RESULT_SCHEMA) is None
    fields = [*FIELDS[: FIELDS.index("category") + 1], "category_id", *FIELDS[FIELDS.index("category") + 1 :]]
    assert list(result) == ["schema", "evidence_id", "engine", "source", *fields, "confidence", "support", "grounds"]
    header = (result["schema"], result["evidence_id"], result["engine"], result["source"])
    assert header == (RESULT_SCHEMA, "0" * 32, "some-engine", "demo.mp4")
    assert result["brand"] == "AURORA" and result["confidence"]["brand"] == 0.9 and result["support"]["brand"] == ["ocr", "asr"]
    assert result["key_attributes"] == {} and result["product_name"] is None and result["price"] is None
    assert all(result["confidence"][f] == 0.0 and result["support"][f] == [] for f in FIELDS if f != "brand")


def test_every_engine_writes_the_same_header(make_evidence, make_line):
    from edge.fusion.qwen import _result

    ev = make_evidence([make_line("AURORA", height=60)], speech="Aurora")
    answer = {"product_name": None, "brand": "AURORA", "product_type": None, "category": None, "key_attributes": {}, "price": None,
              "confidence": dict.fromkeys(FIELDS, 0.9), "support": {f: ["ocr", "vl"] for f in FIELDS}}
    cloud = _result(EvidenceView.from_document(ev), answer, "qwen-plus")
    local = fuse_local(ev)
    assert list(cloud) == list(local)
    assert cloud["support"]["brand"] == ["ocr"]  # the evidence has no VL reading to support anything
    assert {k: cloud[k] for k in ("schema", "evidence_id", "source")} == {k: local[k] for k in ("schema", "evidence_id", "source")}


def test_local_engine_is_a_context_manager_with_a_close_that_does_nothing(make_evidence):
    config = Config().fusion
    with create_fusion(config) as fuse:
        assert isinstance(fuse, FusionEngine) and fuse is fuse_local
        first = fuse(make_evidence())
    assert fuse(make_evidence()) == first  # closed, it still works: it holds nothing


def test_the_cloud_engine_and_the_vl_reader_close_their_clients(monkeypatch):
    monkeypatch.setenv("LIVEGUARD_DOC_KEY", "sk-test")
    cloud = {"base_url": "http://127.0.0.1:9", "api_key_env": "LIVEGUARD_DOC_KEY"}
    config = Config.model_validate({"fusion": {"mode": "direct", "vl": {"enabled": True}, "cloud": cloud}}).fusion
    with create_fusion(config) as fuse, create_vl_reader(config) as reader:
        assert isinstance(fuse, FusionEngine) and fuse.local is fuse_local
        assert not fuse.client._http.is_closed and not reader.client._http.is_closed
    assert fuse.client._http.is_closed and reader.client._http.is_closed


def test_an_unknown_engine_names_the_family():
    config = Config().fusion.model_copy(update={"engine": "no-such-engine"})
    with pytest.raises(KeyError, match="no fusion backend 'no-such-engine'"):
        create_fusion(config)
