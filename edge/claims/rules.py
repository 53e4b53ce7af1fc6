"""Claim rule sets: YAML, one per jurisdiction and product class, validated at load.

A set names its jurisdiction and lists rules. A rule has an id, a family (``absolute``, ``medical``,
``authority``, ``price``), the legal reference a regulator cites, a severity, the terms that fire it
(literal words, matched after normalisation: ``edge.claims.normalise``) and/or regular expressions, the
ways ASR is known to mishear a term (``heard_as``), the words that make a match a near miss and not a
claim (``unless``), and the departments it applies to (Google product taxonomy path prefixes; none: every
product) or does not (``except_departments``: a medicine may claim to treat).

A file with an unknown key, a malformed pattern or a rule without terms is refused at load with one line
naming the file and the rule.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edge.config.models import ClaimsConfig, ShippedRuleSet
from edge.validation import describe_validation_error, dotted

FAMILIES = ("absolute", "medical", "authority", "price")
SEVERITIES = ("low", "medium", "high")
SHIPPED: tuple[str, ...] = get_args(ShippedRuleSet)  # edge/claims/sets/NAME.yaml


def in_scope(department: str | None, departments: tuple[str, ...] | list[str], except_departments: tuple[str, ...] | list[str]) -> bool:
    """``department`` (a taxonomy path) lies under one of ``departments`` (none: every one) and under none of
    ``except_departments``. An unknown department (None) is in every scope: a claim on a product nobody recognised
    is kept for a person to judge, not dropped."""
    if department is None:
        return True
    if any(department.startswith(prefix) for prefix in except_departments):
        return False
    return not departments or any(department.startswith(prefix) for prefix in departments)


class RulesError(ValueError):
    """A rule set that cannot be used; the message names the file and the rule."""


class ClaimRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    family: Literal["absolute", "medical", "authority", "price"]
    reference: str = Field(min_length=1, description="The legal reference a regulator cites.")
    severity: Literal["low", "medium", "high"] = "medium"
    terms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    heard_as: dict[str, tuple[str, ...]] = Field(default_factory=dict, description="Term -> how ASR is known to write it.")
    unless: tuple[str, ...] = Field((), description="Words around a match that make it a near miss, not a claim.")
    departments: tuple[str, ...] = ()
    except_departments: tuple[str, ...] = ()
    modalities: tuple[Literal["ocr", "asr"], ...] = ("ocr", "asr")
    check: Literal["spoken-vs-shown", "original-price"] | None = Field(
        None, description="price rules: the spoken price against the one shown, or a stated original price")

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"malformed pattern {pattern!r}: {exc}") from None
        return patterns

    @model_validator(mode="after")
    def _fires_on_something(self) -> ClaimRule:
        if self.family == "price" and self.check is None:
            raise ValueError("a price rule needs a check (spoken-vs-shown or original-price)")
        if self.family != "price" and self.check is not None:
            raise ValueError("only price rules have a check")
        if not self.terms and not self.patterns and self.check != "spoken-vs-shown":
            raise ValueError("a rule needs terms or patterns")
        unknown = set(self.heard_as) - set(self.terms)
        if unknown:
            raise ValueError(f"heard_as names terms the rule does not have: {sorted(unknown)}")
        return self

    def applies_to(self, department: str | None) -> bool:
        """Does the rule apply to a product of ``department`` (a taxonomy path; None: not known)?"""
        return in_scope(department, self.departments, self.except_departments)


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    jurisdiction: str = Field(min_length=1)
    language: Literal["zh", "en"]
    rules: tuple[ClaimRule, ...] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids used twice: {twice}")
        return self


def load_rule_set(path: Path | str, text: str | None = None) -> RuleSet:
    """The rule set in ``path``; :class:`RulesError` names the file and the rule of any fault."""
    name = str(path)
    try:
        raw = yaml.safe_load(text if text is not None else Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{name}: cannot read the rule set: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise RulesError(f"{name}: a rule set is a mapping with name, jurisdiction, language and rules")
    try:
        return RuleSet.model_validate({**raw, "source": name})
    except ValidationError as exc:
        where = exc.errors()[0]["loc"]
        in_rule = len(where) >= 2 and where[0] == "rules" and isinstance(where[1], int)
        rule = f" rule {_rule_id(raw, where[1])}:" if in_rule else ""
        keys = (lambda loc: [str(part) for part in loc[2:]]) if in_rule else dotted
        raise RulesError(f"{name}:{rule} {describe_validation_error(exc, keys, show_value=False)}") from None


def _rule_id(raw: dict, index: int) -> str:
    """The id a rule of the raw document gives itself, else its position."""
    rules = raw.get("rules") or []
    entry = rules[index] if index < len(rules) else None
    return str(entry.get("id", index)) if isinstance(entry, dict) else str(index)


@lru_cache(maxsize=len(SHIPPED))
def shipped_rule_set(name: str) -> RuleSet:
    """The shipped rule set ``name`` (``cn-mainland``, ``generic-en``)."""
    if name not in SHIPPED:
        raise RulesError(f"claims.rule_sets: no shipped rule set {name!r} (shipped: {', '.join(SHIPPED)})")
    text = resources.files("edge.claims").joinpath("sets", f"{name}.yaml").read_text(encoding="utf-8")
    return load_rule_set(f"edge/claims/sets/{name}.yaml", text)


def shipped_rule_sets() -> tuple[RuleSet, ...]:
    """Every rule set that ships with the package (mainland China, a generic English set)."""
    return tuple(shipped_rule_set(name) for name in SHIPPED)


def configured_rule_sets(config: ClaimsConfig) -> tuple[RuleSet, ...]:
    """The shipped sets ``config`` names, then the site's own files; :class:`RulesError` names a faulty one.
    Two sets with one name would make flags ambiguous: refused."""
    sets = tuple(shipped_rule_set(name) for name in config.rule_sets) + tuple(load_rule_set(path) for path in config.files)
    names = [rule_set.name for rule_set in sets]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise RulesError(f"claims: rule set name {twice[0]!r} used by two sets ({', '.join(s.source for s in sets if s.name == twice[0])})")
    return sets
