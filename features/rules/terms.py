"""The contract's terms the rules share: NOC codes, drug administration codes, NDC units, PWK codes.

These are the default *meanings* of CONTRACT §3's words ("a NOC drug code", "an administration
code"); payer policy YAML may override the lists it names (``noc_codes``, ``invoice_report_types``,
``banned_ndc_units``). They sit apart from the rules so that the policy loader can read the defaults
without importing the rules.
"""

from __future__ import annotations

DEFAULT_NOC_CODES: tuple[str, ...] = ("J3490", "J3590", "J3591", "J9999", "C9399")
"""Not-otherwise-classified drug codes (CONTRACT §3); payer policy ``noc_codes`` may change the list."""

OPPS_ONLY_NOC_CODE = "C9399"
"""C9399 is paid under the hospital outpatient PPS only, so a professional claim must not use it."""

INVOICE_REPORT_TYPES: tuple[str, ...] = ("OZ", "04")
"""PWK01 report types payers accept as an invoice (5010 has no "invoice" code; OZ/04 are customary)."""

NOT_SENT_TRANSMISSION = "AA"
"""PWK02 ``AA``: "available on request at provider site" — nothing was actually sent."""

VALID_NDC_UNITS: frozenset[str] = frozenset({"F2", "GR", "ME", "ML", "UN"})

WASTE_MODIFIERS: frozenset[str] = frozenset({"JW", "JZ"})

ADMIN_CODE_RANGES: tuple[tuple[int, int], ...] = ((96360, 96379), (96401, 96549))
"""CPT drug administration (hydration/infusion/injection and chemotherapy administration) codes."""


def is_admin_code(code: str | None) -> bool:
    """True for a CPT drug administration code (96360–96379, 96401–96549)."""
    if code is None or len(code) != 5 or not code.isdigit():
        return False
    number = int(code)
    return any(low <= number <= high for low, high in ADMIN_CODE_RANGES)


def semantics() -> dict[str, object]:
    """The terms as plain JSON data, for :func:`features.version.rules_version`."""
    return {
        "noc_codes": list(DEFAULT_NOC_CODES),
        "opps_only_noc_code": OPPS_ONLY_NOC_CODE,
        "invoice_report_types": list(INVOICE_REPORT_TYPES),
        "not_sent_transmission": NOT_SENT_TRANSMISSION,
        "ndc_units": sorted(VALID_NDC_UNITS),
        "waste_modifiers": sorted(WASTE_MODIFIERS),
        "admin_code_ranges": [list(r) for r in ADMIN_CODE_RANGES],
    }
