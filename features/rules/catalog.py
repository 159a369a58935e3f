"""Every rule of CONTRACT §3 with its adjudication codes and the words a biller reads.

The catalog is data, not logic: the engine decides *when* a rule fires, the catalog says what the
flag is called, which CARC/RARC a payer would send for it, and how to fix it. Messages are
``str.format`` templates over the rule's evidence so that the text always names the values that
triggered it. Messages never need claim content beyond what the biller submitted themselves.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["claim", "line"]
Severity = Literal["error", "warning"]

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


@dataclass(frozen=True)
class RuleSpec:
    id: str
    level: Level
    severity: Severity
    carc: str | None
    rarc: tuple[str, ...]
    seed_reason: str
    message: str  # str.format template over the evidence keys
    fix: str
    claim_message: str | None = None  # the message when a line rule reports at claim level
    _fields: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    _texts: dict[tuple[object, ...], tuple[str, str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        templates = (self.message, self.fix, self.claim_message or "")
        names = {name for t in templates for _, name, _, _ in string.Formatter().parse(t) if name}
        object.__setattr__(self, "_fields", tuple(sorted(names)))

    def message_for(self, evidence: dict[str, object], *, claim_level: bool) -> str:
        template = self.claim_message if claim_level and self.claim_message else self.message
        return template.format_map(_Readable(evidence))

    def texts(self, evidence: dict[str, object], *, claim_level: bool) -> tuple[str, str]:
        """(message, fix), memoised on the evidence values the templates use: a batch repeats them a lot."""
        key = (claim_level, *(_hashable(evidence.get(name)) for name in self._fields))
        found = self._texts.get(key)
        if found is None:
            if len(self._texts) > 50_000:
                self._texts.clear()
            found = self._texts[key] = (self.message_for(evidence, claim_level=claim_level), self.render_fix(evidence))
        return found

    def render(self, evidence: dict[str, object]) -> str:
        """The message with the evidence filled in; a missing key leaves its placeholder readable."""
        return self.message.format_map(_Readable(evidence))

    def render_fix(self, evidence: dict[str, object]) -> str:
        return self.fix.format_map(_Readable(evidence)) if "{" in self.fix else self.fix


def _hashable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


class _Readable(dict[str, object]):
    """format_map helper: None reads as "none", lists as comma-joined, unknown keys stay visible."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

    def __getitem__(self, key: str) -> object:
        value = super().__getitem__(key)
        if value is None:
            return "none"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value) if value else "none"
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


def _rule(
    id: str,
    level: Level,
    carc: str | None,
    rarc: tuple[str, ...],
    seed_reason: str,
    message: str,
    fix: str,
    severity: Severity = "error",
    claim_message: str | None = None,
) -> RuleSpec:
    return RuleSpec(id, level, severity, carc, rarc, seed_reason, message, fix, claim_message)


_SPECS: tuple[RuleSpec, ...] = (
    _rule(
        "NDC_MISSING", "line", "16", ("M119",), "Missing NDC",
        "Drug line {procedure_code} has no NDC.",
        "Add the 11-digit NDC of the product given (loop 2410 LIN03, qualifier N4) with its quantity and unit.",
    ),
    _rule(
        "NDC_INVALID", "line", "16", ("M119",), "Missing NDC",
        "NDC '{ndc}' is not a valid 11-digit NDC.",
        "Send the NDC as 11 digits (5-4-2). Pad a 10-digit 4-4-2, 5-3-2 or 5-4-1 NDC with a leading zero "
        "in the short segment; a 10-digit NDC without hyphens cannot be padded safely — read it from the package.",
    ),
    _rule(
        "NDC_QUANTITY_INVALID", "line", "16", ("N815",), "Incorrect units",
        "NDC quantity is {drug_quantity}; it must be a positive number.",
        "Enter the NDC quantity actually administered (CTP04), greater than zero.",
    ),
    _rule(
        "NDC_UNIT_INVALID", "line", "16", ("N816",), "Incorrect units",
        "NDC unit of measure '{drug_unit}' is {problem}.",
        "Use the NDC unit of measure that matches the package: F2 (international unit), GR (gram), "
        "ME (milligram), ML (milliliter) or UN (unit/each), as this payer accepts.",
    ),
    _rule(
        "UNITS_INVALID", "line", "16", ("M53",), "Incorrect units",
        "Billed units are {units}; they must be greater than zero.",
        "Enter the number of HCPCS billing units given (SV104/SV205), greater than zero.",
    ),
    _rule(
        "NOC_UNITS_NOT_ONE", "line", "16", ("M53",), "Incorrect units",
        "This payer wants unclassified code {procedure_code} billed as 1 unit; the line bills {units}.",
        "Bill the unclassified drug code with 1 unit and put the dose given in the description (SV101-7).",
    ),
    _rule(
        "UNITS_MISMATCH", "line", "16", ("N430",), "Incorrect units",
        "Billed {units} units of {procedure_code}, but NDC quantity {drug_quantity} UN × {bill_units} billing "
        "units per item (crosswalk {quarter}) gives {expected_units}.",
        "Recompute the HCPCS units from the dose given and the code's dosage descriptor, or correct the NDC quantity.",
    ),
    _rule(
        "SPECIFIC_CODE_EXISTS", "line", "189", ("N657",), "Existing HCPCS code available",
        "NDC {ndc} is listed under {specific_codes} in the CMS crosswalk for {quarter}; "
        "unclassified code {procedure_code} should not be used.",
        "Bill the specific HCPCS code {specific_codes} instead of the unclassified code, with units per its dosage descriptor.",
    ),
    _rule(
        "NDC_HCPCS_MISMATCH", "line", "16", ("N846",), "Missing NDC",
        "NDC {ndc} is listed under {listed_codes} in the CMS crosswalk for {quarter}, not under {procedure_code}.",
        "Check the NDC against the drug given: either the NDC or the HCPCS code is wrong.",
    ),
    _rule(
        "DESCRIPTION_MISSING", "line", "16", ("N350",), "Missing drug description",
        "Unclassified code {procedure_code} has no drug description and no line note.",
        "Describe the drug in SV101-7/SV202-7 or the line note: name, strength, dose given and route.",
    ),
    _rule(
        "DESCRIPTION_INCOMPLETE", "line", "16", ("M123",), "Missing drug description",
        "The description of unclassified code {procedure_code} lacks {missing}.",
        "Give the drug name and the strength/dose with its unit (e.g. '<DRUG NAME> 100 MG IV').",
    ),
    _rule(
        "INVOICE_MISSING", "line", "16", ("M23",), "Missing invoice",
        "This payer requires an invoice for unclassified code {procedure_code}; no attachment of type "
        "{invoice_report_types} was sent.",
        "Send the invoice (PWK with report type {invoice_report_types}, a transmission other than AA and a "
        "control number) at the claim or this line.",
    ),
    _rule(
        "DOCUMENTATION_MISSING", "line", "252", ("N706",), "Incomplete documentation",
        "This payer requires supporting records for unclassified code {procedure_code}; none were sent.",
        "Send the supporting records (PWK with a transmission other than AA, e.g. FX/EL/BM) and keep the "
        "control number.",
    ),
    _rule(
        "DIAGNOSIS_MISSING", "claim", "16", ("MA63",), "Lack of medical necessity",
        "The claim has no diagnosis code.",
        "Enter the ICD-10-CM diagnosis codes that support the drug, the principal one first.",
    ),
    _rule(
        "DIAGNOSIS_INVALID", "claim", "16", ("M76",), "Lack of medical necessity",
        "Diagnosis code(s) {codes} at position(s) {positions} are not valid billable ICD-10-CM codes.",
        "Use complete, billable ICD-10-CM codes (the most specific code in the category).",
    ),
    _rule(
        "DIAGNOSIS_POINTER_INVALID", "line", "16", ("M76",), "Lack of medical necessity",
        "The line's diagnosis pointers ({pointer_count} given, lowest {pointer_min}, highest {pointer_max}) must "
        "each be between 1 and {diagnosis_count}, the number of diagnosis codes on the claim.",
        "Point the line at the diagnoses it treats (1 to the number of diagnosis codes on the claim).",
    ),
    _rule(
        "PRIOR_AUTH_MISSING", "line", "197", ("M62",), "Payer-specific policy",
        "This payer requires prior authorization for unclassified code {procedure_code}; none is on the claim or line.",
        "Obtain the prior authorization and report its number (REF*G1) on the claim or the line.",
    ),
    _rule(
        "ADMIN_CODE_MISSING", "claim", None, (), "Report administration separately",
        "The claim bills unclassified drug code(s) {noc_codes} but no drug administration code (96360–96379, 96401–96549).",
        "Add the CPT administration code for how the drug was given (e.g. 96365 IV infusion, 96372 injection).",
        severity="warning",
    ),
    _rule(
        "WASTE_MODIFIER_MISSING", "line", "4", (), "Payer-specific policy",
        "This payer requires modifier JW (amount discarded) or JZ (none discarded) on drug code {procedure_code}.",
        "Add JZ when no drug was discarded, or bill the discarded amount on a separate line with JW.",
        severity="warning",
    ),
    _rule(
        "NOC_CODE_SETTING", "line", "16", ("M20",), "Choice of NOC code",
        "C9399 is a hospital outpatient (OPPS) code and cannot be billed on a professional claim.",
        "On a professional claim bill J3490 (drugs), J3590 (biologics) or J9999 (antineoplastics) instead of C9399.",
    ),
    _rule(
        "TIMELY_FILING", "claim", "29", (), "Payer-specific policy",
        "Submitted {days_since_service} days after the earliest service date {earliest_service_date}; "
        "this payer's filing limit is {filing_limit_days} days.",
        "Check whether an exception applies (retro eligibility, corrected claim of a timely original) and attach proof.",
    ),
    _rule(
        "CHARGE_INVALID", "line", "16", ("M79",), "Incomplete claim",
        "The line charge is {charge}; it must be a positive amount.",
        "Enter a positive charge on every line and make the total charge equal the sum of the line charges.",
        claim_message="The total charge ({total_charge}) does not equal the sum of the line charges "
        "({line_charge_sum}); difference {difference}.",
    ),
)

RULES: dict[str, RuleSpec] = {spec.id: spec for spec in _SPECS}
"""Rule id -> spec, in CONTRACT §3 order. Ids are stable: saved models refer to them by name."""

RULE_IDS: tuple[str, ...] = tuple(RULES)
RULE_CODE: dict[str, int] = {rule_id: code for code, rule_id in enumerate(RULE_IDS)}
"""Rule id -> small integer used in the engine's arrays (catalog order)."""

CLAIM_LEVEL_RULES: frozenset[str] = frozenset(r.id for r in _SPECS if r.level == "claim")
"""Rules that report ``line_number: null``. CHARGE_INVALID is listed as a line rule but also reports
the total-vs-sum problem at claim level."""
