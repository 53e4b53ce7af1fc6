"""Cloud fusion (paper §3.5): Qwen-Plus, or any OpenAI-compatible model, fuses the evidence.

A callable of the evidence document: ``QwenFusion(config, client, fallback)(evidence) -> result``.
The call runs at temperature 0 with a fixed seed in JSON mode. An answer that is not valid JSON,
or not of the answer's shape, gets one repair attempt; when that fails too, or the cloud does not
answer at all (refusal, throttling past the retry budget, timeouts, no network), the local rules
decide. The result names the engine that produced it and lists every failure on the way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from edge.config.models import FusionConfig
from edge.evidence.schema import RESULT_SCHEMA, schema_problem
from edge.fusion.answer import blank_to_none, parse_object, shape_problem
from edge.fusion.client import ChatClient, CloudError, Reply, cloud_client
from edge.fusion.documents import CONFIDENCE_DIGITS, FIELDS, MODALITIES, Decision, EvidenceView, result_record, with_claims
from edge.fusion.engine import Closing, Document, FusionEngine
from edge.fusion.grounding import judge
from edge.fusion.prompt import ANSWER_SCHEMA, UNIT_SCHEMA, fusion_messages, repair_messages, structuring_messages

log = logging.getLogger(__name__)


class QwenFusion(Closing):
    """Evidence in, ``liveguard.result/1`` out, by the cloud LLM with the local rules as the fallback.

    It owns ``client`` and ``local``: :meth:`close` closes both.
    """

    def __init__(self, config: FusionConfig, client: ChatClient, local: FusionEngine) -> None:
        self.config = config
        self.client = client
        self.local = local
        self.model = config.cloud.model

    def __call__(self, evidence: Document) -> Document:
        view = EvidenceView.from_document(evidence)
        failures: list[str] = [f"vl: {view.vl_error}"] if view.vl_error else []
        try:
            units = self._structure(view, failures) if self.config.structuring else None
            answer = self._ask(fusion_messages(view, units), ANSWER_SCHEMA, failures, "fusion", normalise=_normalise_answer)
            if answer is not None:
                result = _result(view, answer, self.model)
                failures.extend(judge(result, view.readings(), MODALITIES))  # an invented value is not passed on as fact
                with_claims(result, view)  # on the fields that survived grounding
                problem = schema_problem(result, RESULT_SCHEMA)
                if problem is None:
                    if failures:
                        result["failures"] = failures
                    return result
                failures.append(f"fusion: {self.model}'s answer does not make a {RESULT_SCHEMA} record: {problem}")
        except CloudError as exc:  # the cloud gave no answer: do not spend more calls on this window
            failures.extend(f"fusion: {exc.culprit}: {line}" for line in exc.failures[:-1])
            failures.append(f"fusion: {exc}")
        except Exception as exc:  # a bug must not cost the window its record: the rules still decide
            log.exception("cloud fusion failed unexpectedly")
            failures.append(f"fusion: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        result = self.local(evidence)
        failures.append(f"fusion: {self.model} gave no usable answer; {result['engine']} decided")
        result["failures"] = [*result.get("failures", []), *failures]
        log.info("%s", failures[-1])
        return result

    def close(self) -> None:
        self.client.close()
        self.local.close()

    def _structure(self, evidence: EvidenceView, failures: list[str]) -> dict[str, Any]:
        """Paper §3.2: the raw OCR and ASR outputs as structured evidence units (skipped when empty)."""
        units: dict[str, Any] = {}
        present = evidence.modalities_present()
        for modality in ("ocr", "asr"):
            if modality in present:
                unit = self._ask(structuring_messages(modality, evidence), UNIT_SCHEMA, failures, f"structuring {modality}")
                if unit is not None:
                    units[modality] = unit
        return units

    def _ask(
        self,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        failures: list[str],
        step: str,
        normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> dict[str, Any] | None:
        """The answer of ``schema``'s shape, after at most one repair attempt; None if there is none.

        Raises :class:`CloudError` when the cloud does not answer.
        """
        reply = self._complete(messages, schema, failures, step)
        value, problem = _read(reply, schema, normalise)
        if problem is None:
            return value
        failures.append(f"{step}: {self.model} answered unusably ({problem}); asking once to repair")
        reply = self._complete(repair_messages(messages, reply.content, problem), schema, failures, f"{step} repair")
        value, problem = _read(reply, schema, normalise)
        if problem is None:
            return value
        failures.append(f"{step} repair: {self.model} answered unusably again ({problem})")
        return None

    def _complete(self, messages: list[dict[str, Any]], schema: dict[str, Any], failures: list[str], step: str) -> Reply:
        reply = self.client.complete(messages, json_schema=schema)
        failures.extend(f"{step}: {self.client.url}: {line} (then retried)" for line in reply.failures)
        return reply


def _read(
    reply: Reply, schema: dict[str, Any], normalise: Callable[[dict[str, Any]], dict[str, Any]] | None
) -> tuple[dict[str, Any] | None, str | None]:
    value, problem = parse_object(reply.content)
    if problem is not None:
        if reply.finish_reason == "length":
            problem += " (cut off at max_tokens)"
        return None, problem
    assert value is not None
    if normalise is not None:
        value = normalise(value)
    problem = shape_problem(value, schema)
    return (value, None) if problem is None else (None, problem)


def _normalise_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """Forgivable differences only: blank strings are null, modality names lower-case and unique."""
    out = dict(answer)
    if "product_type" not in out and "category" in out:  # an answer in the older five-field shape: no type given
        out["product_type"] = None
        for part in ("confidence", "support"):
            if isinstance(out.get(part), dict):
                out[part] = {**out[part], "product_type": 0.0 if part == "confidence" else []}
    for field in ("product_name", "brand", "product_type", "category", "price"):
        if field in out:
            out[field] = blank_to_none(out[field])
    if isinstance(out.get("key_attributes"), dict):
        out["key_attributes"] = {
            str(k).strip(): v.strip() for k, v in out["key_attributes"].items() if isinstance(v, str) and v.strip() and str(k).strip()
        }
    support = out.get("support")
    if isinstance(support, dict):
        out["support"] = {
            k: list(dict.fromkeys(m.strip().lower() if isinstance(m, str) else m for m in v)) if isinstance(v, list) else v
            for k, v in support.items()
        }
    return out


def _result(evidence: EvidenceView, answer: dict[str, Any], engine: str) -> Document:
    """The ``liveguard.result/1`` record for a valid answer.

    A field without a value has no confidence and no support; support only names modalities the
    evidence has (a model may claim an image it never saw).
    """
    present = evidence.modalities_present()
    decisions: dict[str, Decision | None] = {}
    for field in FIELDS:
        value = answer[field]
        if value is None or value == {}:
            decisions[field] = None
            continue
        support = tuple(m for m in MODALITIES if m in answer["support"][field] and m in present)
        decisions[field] = Decision(value, round(float(answer["confidence"][field]), CONFIDENCE_DIGITS), support)
    return result_record(evidence, engine, decisions)


def create_engine(config: FusionConfig, fallback: FusionEngine | None = None, **client_options: Any) -> QwenFusion:
    """The registry's factory for ``fusion.mode: direct``: reads the API key now (ConfigError if missing).

    ``client_options`` go to :class:`edge.fusion.client.ChatClient` (tests pass a transport).
    """
    if fallback is None:
        raise ValueError("the cloud fusion engine needs a local engine to fall back on")
    return QwenFusion(config, cloud_client(config.cloud, **client_options), fallback)
