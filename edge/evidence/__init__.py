"""The evidence document (``liveguard.evidence/1``): building and validating it, reading its compact forms."""

from edge.evidence.build import Provenance, build_evidence, encode_jpeg, evidence_id
from edge.evidence.forms import expanded, ocr_lines, segments
from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA, load_schema, schema_problem

__all__ = [
    "EVIDENCE_SCHEMA",
    "RESULT_SCHEMA",
    "Provenance",
    "build_evidence",
    "encode_jpeg",
    "evidence_id",
    "expanded",
    "load_schema",
    "ocr_lines",
    "schema_problem",
    "segments",
]
