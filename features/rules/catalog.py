"""Every rule of CONTRACT §3, in contract order: one registry of the rule specs.

Each rule is defined in its family's module by a :func:`features.rules.spec.rule` decorator above
the function that decides it (id, level, severity, CARC/RARC, message, fix, parameters and the
evidence it reports, in one place); this module only lists them. Messages are ``str.format``
templates over the rule's evidence so the text always names the values that triggered it, and they
never need claim content beyond what the biller submitted themselves.
"""

from __future__ import annotations

from features.rules import charges, coding, crosswalk, descriptions, diagnoses, filing, ndc, paperwork, units
from features.rules.spec import Level, RuleSpec, Severity
from features.rules.terms import (
    ADMIN_CODE_RANGES,
    DEFAULT_NOC_CODES,
    INVOICE_REPORT_TYPES,
    NOT_SENT_TRANSMISSION,
    OPPS_ONLY_NOC_CODE,
    VALID_NDC_UNITS,
    WASTE_MODIFIERS,
    is_admin_code,
)

__all__ = [
    "ADMIN_CODE_RANGES", "CLAIM_LEVEL_RULES", "DEFAULT_NOC_CODES", "INVOICE_REPORT_TYPES", "NOT_SENT_TRANSMISSION",
    "OPPS_ONLY_NOC_CODE", "RULES", "RULE_CODE", "RULE_IDS", "VALID_NDC_UNITS", "WASTE_MODIFIERS", "Level",
    "RuleSpec", "Severity", "is_admin_code",
]

_SPECS: tuple[RuleSpec, ...] = (
    ndc.ndc_missing,
    ndc.ndc_invalid,
    ndc.ndc_quantity_invalid,
    ndc.ndc_unit_invalid,
    units.units_invalid,
    units.noc_units_not_one,
    units.units_mismatch,
    units.units_exceed_mue,
    crosswalk.specific_code_exists,
    crosswalk.ndc_hcpcs_mismatch,
    descriptions.description_missing,
    descriptions.description_incomplete,
    paperwork.invoice_missing,
    paperwork.documentation_missing,
    diagnoses.diagnosis_missing,
    diagnoses.diagnosis_invalid,
    diagnoses.diagnosis_pointer_invalid,
    paperwork.prior_auth_missing,
    coding.admin_code_missing,
    coding.waste_modifier_missing,
    coding.noc_code_setting,
    filing.timely_filing,
    charges.charge_invalid,
)

RULES: dict[str, RuleSpec] = {spec.id: spec for spec in _SPECS}
"""Rule id -> spec, in CONTRACT §3 order. Ids are stable: saved models refer to them by name."""

RULE_IDS: tuple[str, ...] = tuple(RULES)
RULE_CODE: dict[str, int] = {rule_id: code for code, rule_id in enumerate(RULE_IDS)}
"""Rule id -> small integer used in the engine's arrays (catalog order)."""

CLAIM_LEVEL_RULES: frozenset[str] = frozenset(r.id for r in _SPECS if r.level == "claim")
"""Rules that report ``line_number: null``. CHARGE_INVALID is listed as a line rule but also reports
the total-vs-sum problem at claim level."""
