"""Screening for false advertising (issue 15, first part): rule sets and the matcher that flags claims in a
window's speech segments and OCR lines. Not yet wired into the window, the evidence or the result."""

from edge.claims.match import Flag, Reading, screen
from edge.claims.rules import ClaimRule, RulesError, RuleSet, load_rule_set, shipped_rule_sets

__all__ = ["ClaimRule", "Flag", "Reading", "RuleSet", "RulesError", "load_rule_set", "screen", "shipped_rule_sets"]
