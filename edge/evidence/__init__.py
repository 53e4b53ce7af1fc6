"""The evidence document (``liveguard.evidence/1``): building and validating it."""

from edge.evidence.build import Provenance, build_evidence, encode_jpeg, evidence_id
from edge.evidence.schema import EVIDENCE_SCHEMA, RESULT_SCHEMA, load_schema, schema_problem

__all__ = [
    "EVIDENCE_SCHEMA",
    "RESULT_SCHEMA",
    "Provenance",
    "build_evidence",
    "encode_jpeg",
    "evidence_id",
    "load_schema",
    "schema_problem",
]
