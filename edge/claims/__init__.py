"""Screening for false advertising (issue 15): rule sets, the matcher that flags claims in a window's speech
segments and OCR lines, a site's watchlist, and the stage that puts the flags into evidence and result."""

from edge.claims.match import Flag, Reading, applies, screen
from edge.claims.rules import ClaimRule, RulesError, RuleSet, configured_rule_sets, load_rule_set, shipped_rule_set, shipped_rule_sets
from edge.claims.screening import Screening, asr_vocabulary, evidence_readings, result_claims, screening_for, screens_claims_decoding

__all__ = [
    "ClaimRule", "Flag", "Reading", "RuleSet", "RulesError", "Screening", "applies", "asr_vocabulary",
    "configured_rule_sets", "evidence_readings",
    "load_rule_set", "result_claims", "screen", "screening_for", "screens_claims_decoding", "shipped_rule_set", "shipped_rule_sets",
]
