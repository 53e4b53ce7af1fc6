"""What fusion reads of the evidence and how every engine writes its result (paper §3.5.2).

The JSON documents stay the wire format: an engine takes the ``liveguard.evidence/1`` dict and
returns a ``liveguard.result/1`` dict. In between it reads an :class:`EvidenceView`, made once from
the (schema-checked) evidence, and writes its record with :func:`result_record`, so that every
engine's record has the same header and the same five fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.claims import result_claims
from edge.evidence.forms import box_points, ocr_lines, segments
from edge.evidence.schema import RESULT_SCHEMA
from edge.fusion.grounding import Readings, Segment, grounds_of
from edge.fusion.taxonomy import taxonomy, type_named

FIELDS = ("product_name", "brand", "product_type", "category", "key_attributes", "price")  # the product fields of a result
MODALITIES = ("ocr", "vl", "asr")  # paper §3.5.2 principle 2: the reliability order
CONFIDENCE_DIGITS = 4  # a field's confidence is reported to four decimals


@dataclass(frozen=True)
class EvidenceLine:
    """One fused OCR line: ``in_product`` False is the live room's overlay, None an unknown place."""

    text: str  # as read (not stripped)
    confidence: float
    in_product: bool | None
    box: tuple[tuple[float, float], ...] = ()  # corner points in frame pixels; () when none was recorded
    frames: tuple[int, ...] = ()  # keyframes it was read in

    @classmethod
    def from_document(cls, line: Mapping[str, Any]) -> EvidenceLine:
        """A line as the evidence holds it; its box in either form (``edge.evidence.forms``)."""
        return cls(
            text=line["text"],
            confidence=float(line["confidence"]),
            in_product=line.get("in_product"),
            box=box_points(line.get("box")),
            frames=tuple(line.get("frames") or ()),
        )

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """(left, top, right, bottom) of the box, None without one."""
        if not self.box:
            return None
        xs, ys = [p[0] for p in self.box], [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def height(self) -> float | None:
        """Print height in pixels (a bigger print is more prominent); None without a box."""
        bounds = self.bounds
        return None if bounds is None else bounds[3] - bounds[1]


@dataclass(frozen=True)
class VlReading:
    """Qwen-VL's reading of the product crop; after a failed call ``error`` says why and the rest is None."""

    model: str
    brand: str | None = None
    product_name: str | None = None
    category: str | None = None
    description: str | None = None
    confidence: float | None = None  # as the model gave it (a JSON int stays an int)
    error: str | None = None

    @classmethod
    def from_document(cls, vl: Mapping[str, Any]) -> VlReading:
        return cls(
            model=vl.get("model", ""),
            brand=vl.get("brand"),
            product_name=vl.get("product_name"),
            category=vl.get("category"),
            description=vl.get("description"),
            confidence=vl.get("confidence"),
            error=vl.get("error"),
        )


@dataclass(frozen=True)
class EvidenceView:
    """The part of one window's evidence that fusion reads, typed."""

    id: str
    source: str
    ocr_lines: tuple[EvidenceLine, ...]
    speech: str  # the transcript; "" without speech
    vl: VlReading | None  # None when VL was off
    segments: tuple[Segment, ...] = ()  # the transcript's timed pieces
    claims: Mapping[str, Any] | None = None  # the box's claims screening; None when it was off

    @classmethod
    def from_document(cls, evidence: Mapping[str, Any]) -> EvidenceView:
        """The view of a ``liveguard.evidence/1`` document (checked against its schema by whoever made or loaded it)."""
        vl = evidence.get("vl")
        return cls(
            id=evidence["id"],
            source=evidence["stream"]["source"],
            ocr_lines=tuple(EvidenceLine.from_document(line) for line in ocr_lines(evidence)),
            speech=evidence["asr"].get("text") or "",
            vl=VlReading.from_document(vl) if vl else None,
            segments=tuple(Segment(float(s["start"]), float(s["end"]), s["text"]) for s in segments(evidence["asr"])),
            claims=evidence.get("claims"),
        )

    def readings(self) -> Readings:
        """The texts a result's values are looked up in (``edge.fusion.grounding``)."""
        vl = self.vl
        said = [vl.brand or "", vl.product_name or "", vl.category or "", vl.description or ""] if vl and not vl.error else []
        return Readings([line.text for line in self.ocr_lines], list(self.segments), self.speech, said)

    @property
    def vl_error(self) -> str | None:
        """Why the VL call gave no reading, None when it did or VL was off."""
        return (self.vl.error or None) if self.vl else None

    def modalities_present(self) -> tuple[str, ...]:
        """The modalities with evidence in this window, in :data:`MODALITIES` order."""
        present = {
            "ocr": bool(self.ocr_lines),
            "vl": self.vl is not None and not self.vl.error,
            "asr": bool(self.speech.strip()),
        }
        return tuple(m for m in MODALITIES if present[m])


@dataclass(frozen=True)
class Decision:
    """A field's fused value, its confidence and the modalities that support it.

    ``value`` is a string, or for ``key_attributes`` a mapping of attribute to string.
    """

    value: Any
    confidence: float
    support: tuple[str, ...]


def result_record(evidence: EvidenceView, engine: str, decisions: Mapping[str, Decision | None]) -> dict[str, Any]:
    """The ``liveguard.result/1`` record of ``engine`` for ``evidence``.

    Each of :data:`FIELDS` comes from its decision; a field without one (or missing) has no value
    (``None``, ``{}`` for ``key_attributes``), confidence 0 and no support.
    """
    result: dict[str, Any] = {
        "schema": RESULT_SCHEMA,
        "evidence_id": evidence.id,
        "engine": engine,
        "source": evidence.source,
    }
    confidence: dict[str, float] = {}
    support: dict[str, list[str]] = {}
    for field in FIELDS:
        decision = decisions.get(field)
        if decision is None:
            result[field] = {} if field == "key_attributes" else None
            confidence[field], support[field] = 0.0, []
        else:
            result[field] = decision.value
            confidence[field], support[field] = decision.confidence, list(decision.support)
        if field == "category":
            result["category_id"] = None  # set by _in_taxonomy; here for the key order
    _in_taxonomy(result, confidence, support)
    result["confidence"] = confidence
    result["support"] = support
    result["grounds"] = grounds_of(result, evidence.readings(), FIELDS)
    return result


def with_claims(result: dict[str, Any], evidence: EvidenceView) -> dict[str, Any]:
    """``result`` with the evidence's claim flags that hold for its product (:func:`edge.claims.result_claims`),
    decided on the final fields, after grounding; unchanged when the evidence was not screened."""
    if evidence.claims is not None:
        result["claims"] = result_claims(evidence.claims, result.get("category"), result.get("brand"), result.get("product_name"))
    return result


def _in_taxonomy(result: dict[str, Any], confidence: dict[str, float], support: dict[str, list[str]]) -> None:
    """``category`` as a department of the product taxonomy (its full path) and its id as ``category_id``.

    A category the taxonomy does not know gives way to the department of the product type, if that names
    one; otherwise it stays as the engine gave it, with ``category_id`` None.
    """
    found = taxonomy().find(result.get("category"))
    kind = type_named(result.get("product_type")) if found is None else None
    if kind is not None:
        found = kind.department
        confidence["category"], support["category"] = confidence["product_type"], list(support["product_type"])
    if found is not None:
        result["category"] = found.path
    result["category_id"] = found.id if found else None
