"""The facts every rule reads, computed once per frame.

A rule asks "is this a NOC line?", "which quarter's crosswalk applies?", "is this diagnosis a
billable ICD-10-CM code?" — questions that several rules (and the featurizer) share. They are
answered here, once per frame, as arrays over lines, claims, diagnoses and attachments, and handed
to each rule; no rule recomputes one and nothing is kept between frames except what
:mod:`features.rules.lookups` documents. String checks run once per distinct value (claim files
repeat a few hundred codes over millions of lines) and are spread back with a take.

:class:`RuleFacts` is also what ``FiredRules.facts`` gives the featurizer (its attribute names are
the ones the featurizer reads, formerly ``LineFacts``), so serving derives these facts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from claims.columnar import ClaimFrame
from features.rules import _arrays as A
from features.rules.description import description_verdicts
from features.rules.lookups import Lookups, lookups_for
from features.rules.terms import NOT_SENT_TRANSMISSION, WASTE_MODIFIERS

if TYPE_CHECKING:
    from features.payer_policy import PolicySet
    from reference.store import ReferenceData

LINE_KEY = 1000  # line numbers are 1..999, so claim_index * 1000 + line_number is unique
_NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass
class RuleFacts:
    """Per-frame facts the rules derive and the featurizer reuses (so serving computes them once)."""

    frame: ClaimFrame
    policies: PolicySet
    reference: ReferenceData
    lookups: Lookups
    claim_index: np.ndarray  # per line
    line_number: np.ndarray  # per line, as sent
    claim_first_row: np.ndarray | None  # start row of each claim when lines are grouped in order, else None
    claim_policy: np.ndarray  # per claim: int64 index into the PolicySet table
    policy: np.ndarray  # per line: the claim's policy
    professional: np.ndarray  # per claim: an 837P claim
    professional_line: np.ndarray  # per line
    claims_with_lines: np.ndarray  # per claim
    code: np.ndarray  # object: procedure code, stripped and upper-cased
    code_index: np.ndarray  # int64 per line into code_uniques
    code_uniques: list[str]
    is_noc: np.ndarray
    is_drug: np.ndarray
    is_specific_drug: np.ndarray  # a drug code listed in the CMS files and not NOC
    is_admin: np.ndarray
    noc_rows: np.ndarray  # indices of the NOC lines
    ndc_present: np.ndarray
    ndc11: np.ndarray  # object: 11-digit NDC or None
    ndc_valid: np.ndarray  # present and normalised to 11 digits
    drug_unit: np.ndarray  # object: NDC unit of measure, stripped and upper-cased ("" when missing)
    unit_index: np.ndarray  # int64 per line into unit_uniques
    unit_uniques: list[str]
    service_date: np.ndarray  # datetime64[D], service date or the submission date when missing
    # the crosswalk look-up: which lines (valid NDC on a NOC or specific drug code with a date), the
    # quarter index in force for each, and the codes CMS lists each NDC under in that quarter
    crosswalk_rows: np.ndarray
    crosswalk_quarter: np.ndarray
    crosswalk_listed: np.ndarray
    description_verdict: np.ndarray  # per NOC line (noc_rows): -1 blank, else has_name * 2 + has_strength
    has_waste_modifier: np.ndarray
    modifier_jw: np.ndarray
    modifier_jz: np.ndarray
    prior_authorization: np.ndarray  # per line: the claim or the line carries a PA number
    attachment_is_invoice: np.ndarray  # per attachment row: an invoice report type, actually sent
    attachment_sent: np.ndarray  # per attachment row: transmission other than AA
    diagnosis_status: np.ndarray  # per diagnosis row: 0 billable, 1 not billable, 2 invalid
    diagnosis_count: np.ndarray  # per claim
    # the diagnosis codes as the ICD-10 check factorized them (the featurizer's chapters reuse them)
    diagnosis_index: np.ndarray
    diagnosis_uniques: list[Any]
    mue: MueFacts  # the lines a Medically Unlikely Edit applies to (UNITS_EXCEED_MUE)

    @property
    def n_claims(self) -> int:
        return self.frame.n_claims

    def per_claim(self, values: np.ndarray, fill: Any) -> np.ndarray:
        """A claim field repeated on its lines -> one value per claim (claims without lines get ``fill``)."""
        return per_claim(values, self.claim_index, self.n_claims, fill, self.claim_first_row)

    def covered(self, attachments: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per line of ``rows``: an attachment in the ``attachments`` mask sits at its claim level or
        on this very line."""
        if not rows.size or not A.any_true(attachments):
            return np.zeros(rows.shape[0], dtype=bool)
        att = self.frame.attachments
        a_ci, a_line = att["claim_index"], att["line_number"]
        claim_level = a_line < 0
        at_claim = A.group_any(a_ci, attachments & claim_level, self.n_claims)[self.claim_index[rows]]
        line_key = self.claim_index[rows] * LINE_KEY + self.line_number[rows]
        on_line = a_ci[attachments & ~claim_level] * LINE_KEY + a_line[attachments & ~claim_level]
        return at_claim | np.isin(line_key, on_line)


def per_claim(
    values: np.ndarray, claim_index: np.ndarray, n_claims: int, fill: Any, first: np.ndarray | None = None
) -> np.ndarray:
    """A claim field repeated on its lines -> one value per claim (claims without lines get ``fill``);
    a take at each claim's first line when ``first`` (:func:`_arrays.first_rows`) is known."""
    if first is not None:
        return values[first]
    out = np.full(n_claims, fill, dtype=values.dtype)
    out[claim_index] = values
    return out


def upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def compute_facts(frame: ClaimFrame, policies: PolicySet, reference: ReferenceData) -> RuleFacts:
    """All shared facts of ``frame`` under ``policies`` and ``reference``."""
    L = frame.lines
    n_claims = frame.n_claims
    ci = L["claim_index"]
    first = A.first_rows(ci, n_claims)
    lookups = lookups_for(reference)
    claim_policy = policies.resolve(
        per_claim(L["payer_id"], ci, n_claims, None, first), per_claim(L["payer_type"], ci, n_claims, None, first)
    )
    policy = claim_policy[ci]
    codes = _codes(L["procedure_code"], L["has_drug"], policy, policies, lookups)
    professional = A.map_unique(per_claim(L["claim_type"], ci, n_claims, None, first), _is_professional, np.bool_)
    ndc_present, ndc11, normalized = lookups.ndc11(L["ndc"])
    ndc_valid = ndc_present & normalized
    unit_index, unit_uniques = A.factorize(L["drug_unit"])
    unit_norm = [upper(u) for u in unit_uniques]
    submission = L["submission_date"]
    service = np.where(np.isnat(L["service_date"]), submission, L["service_date"])
    is_noc, is_specific = codes["is_noc"], codes["is_specific_drug"]
    xw_rows = A.rows_where(ndc_valid & (is_noc | is_specific) & ~np.isnat(service))
    quarter, listed = _crosswalk(lookups, service, ndc11, xw_rows)
    noc_rows = A.rows_where(is_noc)
    modifiers = _modifiers(L["modifiers"])
    claim_no_pa = A.is_blank(per_claim(L["claim_prior_authorization"], ci, n_claims, None, first))
    invoice, sent = _attachments(frame, claim_policy, policies)
    mue_candidate = policies.column("mue")[policy] & ~is_noc
    mue = mue_facts(frame, reference, mue_candidate, codes["code"], codes["code_index"], service, first)
    dx_status, dx_index, dx_uniques = lookups.diagnosis_status(frame.diagnoses["code"])
    return RuleFacts(
        frame=frame, policies=policies, reference=reference, lookups=lookups,
        claim_index=ci, line_number=L["line_number"], claim_first_row=first,
        claim_policy=claim_policy, policy=policy, professional=professional, professional_line=professional[ci],
        claims_with_lines=np.bincount(ci, minlength=n_claims) > 0,
        **codes, noc_rows=noc_rows,
        ndc_present=ndc_present, ndc11=ndc11, ndc_valid=ndc_valid,
        drug_unit=_as_objects(unit_norm)[unit_index], unit_index=unit_index, unit_uniques=unit_norm,
        service_date=service, crosswalk_rows=xw_rows, crosswalk_quarter=quarter, crosswalk_listed=listed,
        description_verdict=_description_verdicts(L, noc_rows),
        **modifiers,
        prior_authorization=~(claim_no_pa[ci] & A.is_blank(L["line_prior_authorization"])),
        attachment_is_invoice=invoice, attachment_sent=sent,
        diagnosis_status=dx_status, diagnosis_count=np.bincount(frame.diagnoses["claim_index"], minlength=n_claims),
        diagnosis_index=dx_index, diagnosis_uniques=dx_uniques, mue=mue,
    )


def _description_verdicts(lines: dict[str, np.ndarray], noc_rows: np.ndarray) -> np.ndarray:
    """The NOC lines' description verdicts; none to judge on a claim without NOC lines (most claims)."""
    if not noc_rows.size:
        return _NO_VERDICTS
    return description_verdicts(lines["description"][noc_rows], lines["line_note"][noc_rows])


_NO_VERDICTS = np.zeros(0, dtype=np.int8)
_NO_VERDICTS.flags.writeable = False


def _is_professional(claim_type: Any) -> bool:
    return claim_type == "professional"


def _as_objects(values: list[Any]) -> np.ndarray:
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table


def _codes(
    procedure_code: np.ndarray, has_drug: np.ndarray, policy: np.ndarray, policies: PolicySet, lookups: Lookups
) -> dict[str, Any]:
    """What each line's procedure code is: NOC under its payer's list, a CMS drug code, an
    administration code; a drug line is any of the first two or a line with a drug block."""
    code_index, code_uniques = A.factorize(procedure_code)
    code_norm = [upper(c) for c in code_uniques]
    is_noc = policies.membership("noc_codes", code_norm)[policy, code_index]
    in_cms, admin = lookups.code_kinds(code_norm)
    in_cms = in_cms[code_index]
    return {
        "code": _as_objects(code_norm)[code_index], "code_index": code_index, "code_uniques": code_norm,
        "is_noc": is_noc, "is_drug": is_noc | in_cms | has_drug, "is_specific_drug": in_cms & ~is_noc,
        "is_admin": admin[code_index],
    }


def _crosswalk(
    lookups: Lookups, service: np.ndarray, ndc11: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(quarter index in force, codes the NDC is listed under) for the crosswalk rows."""
    if not rows.size:
        return _NO_ROWS, np.empty(0, dtype=object)
    quarter = lookups.quarter_index(service[rows])
    return quarter, lookups.codes_for_ndc(quarter, ndc11[rows])


def _modifiers(modifiers: np.ndarray) -> dict[str, Any]:
    """JW / JZ / either, per line, from one pass over the distinct modifier lists."""
    index, uniques = A.factorize(modifiers)
    sets = [frozenset(m.split("|")) if isinstance(m, str) and m else frozenset() for m in uniques]
    return {
        "has_waste_modifier": np.array([bool(s & WASTE_MODIFIERS) for s in sets], dtype=bool)[index],
        "modifier_jw": np.array(["JW" in s for s in sets], dtype=bool)[index],
        "modifier_jz": np.array(["JZ" in s for s in sets], dtype=bool)[index],
    }



def _attachments(frame: ClaimFrame, claim_policy: np.ndarray, policies: PolicySet) -> tuple[np.ndarray, np.ndarray]:
    """(an invoice under the claim's payer policy and actually sent, actually sent) per attachment."""
    att = frame.attachments
    a_ci = att["claim_index"]
    sent = A.map_unique(att["transmission"], _is_sent, np.bool_)
    if not a_ci.size:
        return np.zeros(0, dtype=bool), sent
    rt_index, rt_uniques = A.factorize(att["report_type"])
    table = policies.membership("invoice_report_types", [upper(r) for r in rt_uniques])
    return table[claim_policy[a_ci], rt_index] & sent, sent


def _is_sent(transmission: Any) -> bool:
    return upper(transmission) != NOT_SENT_TRANSMISSION


# ---------------------------------------------------------------- Medically Unlikely Edits
OUTPATIENT_BILL_TYPES = ("13", "85")  # hospital outpatient, critical access hospital: the OPPS table
"""Bill types (facility type + classification) whose claims CMS edits with the outpatient hospital
MUE table; other institutional bills, inpatient (11x) first of all, have no MUE."""


@dataclass(frozen=True)
class MueFacts:
    """The lines a CMS Medically Unlikely Edit applies to, with the table's answer and their groups.

    Indicator 1 edits each line; 2 and 3 edit the units of all the claim's lines with the same code
    and service date, so those lines are grouped here once, for the rule and anyone else asking.
    """

    rows: np.ndarray  # line indices: edited setting, not NOC, payer policy on, the code has an MUE
    setting: np.ndarray  # object per row: "practitioner" | "outpatient"
    limit: np.ndarray  # float64 per row: the MUE in units
    indicator: np.ndarray  # int8 per row: 1 line edit, 2 policy date-of-service edit, 3 clinical one
    units: np.ndarray  # float64 per row: billed units, 0 when missing or not positive
    group: np.ndarray  # int64 per row: its (claim, code, service date) group, -1 for indicator 1
    group_units: np.ndarray  # float64 per group: the units of all its lines
    group_first: np.ndarray  # int64 per group: its first row (index into ``rows``), as the lines were sent


_NO_FLOATS = np.zeros(0)
NO_MUE = MueFacts(
    _NO_ROWS, np.empty(0, dtype=object), _NO_FLOATS, np.zeros(0, dtype=np.int8), _NO_FLOATS, _NO_ROWS,
    _NO_FLOATS, _NO_ROWS,
)


def mue_setting(claim_type: Any, type_of_bill: Any) -> str | None:
    """Which MUE table edits a claim: practitioner for 837P, outpatient hospital for 837I bills of
    type 13x/85x (``type_of_bill`` as sent, 3 digits or 4 with a leading 0), none otherwise."""
    if claim_type == "professional":
        return "practitioner"
    if claim_type != "institutional" or not isinstance(type_of_bill, str):
        return None
    bill = type_of_bill.strip()
    bill = bill[1:] if len(bill) == 4 and bill.startswith("0") else bill
    return "outpatient" if bill[:2] in OUTPATIENT_BILL_TYPES else None


def mue_facts(
    frame: ClaimFrame, reference: ReferenceData, candidate: np.ndarray, code: np.ndarray, code_index: np.ndarray,
    service: np.ndarray, first: np.ndarray | None,
) -> MueFacts:
    """The MUE facts of a frame. ``candidate`` marks lines that may be edited (policy on, not NOC).
    Frames whose lines all lack an edited setting or an MUE code stop before any grouping."""
    L = frame.lines
    ci, n_claims = L["claim_index"], frame.n_claims
    if not A.any_true(candidate):
        return NO_MUE
    setting_index, settings = _claim_settings(
        per_claim(L["claim_type"], ci, n_claims, None, first), per_claim(L["type_of_bill"], ci, n_claims, None, first)
    )
    edited = np.array([s is not None for s in settings], dtype=bool)
    line_setting = setting_index[ci]
    rows = A.rows_where(candidate & edited[line_setting])
    if not rows.size:
        return NO_MUE
    setting = _as_objects(settings)[line_setting[rows]]
    limit, indicator = reference.mue(setting, code[rows], service[rows])
    has = A.rows_where(indicator > 0)
    if not has.size:
        return NO_MUE
    rows, setting, limit, indicator = rows[has], setting[has], limit[has], indicator[has]
    units = np.maximum(L["units"][rows], 0.0)
    units[np.isnan(units)] = 0.0
    group = np.full(rows.shape[0], -1, dtype=np.int64)
    per_day = A.rows_where(indicator != 1)
    group_units: np.ndarray = _NO_FLOATS
    group_first: np.ndarray = _NO_ROWS
    if per_day.size:
        group[per_day], first_of_group = _day_groups(ci, code_index, service, rows[per_day])
        group_units = np.bincount(group[per_day], weights=units[per_day])
        group_first = per_day[first_of_group]
    return MueFacts(rows, setting, limit, indicator, units, group, group_units, group_first)


def _claim_settings(claim_type: np.ndarray, type_of_bill: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Per claim, an index into the distinct MUE settings (:func:`mue_setting` once per distinct pair)."""
    if claim_type.shape[0] <= A.SMALL:
        found = [mue_setting(t, b) for t, b in zip(claim_type.tolist(), type_of_bill.tolist(), strict=True)]
        return np.arange(len(found)), found
    index, pairs = A.factorize_pairs(claim_type, type_of_bill)
    return index, [mue_setting(t, b) for t, b in pairs]


def _day_groups(
    ci: np.ndarray, code_index: np.ndarray, service: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(group per row, first row of each group) of ``rows`` by (claim, code, service date).

    Groups are numbered in order of first appearance (:func:`_arrays.factorize`), so a group's
    first row is where its number first exceeds every earlier one: the first line as sent."""
    if rows.shape[0] == 1:  # one edited line (the usual single claim): its own group
        return _ZERO_GROUP, _ZERO_GROUP
    day_index, days = A.factorize(service[rows].view(np.int64))
    n_codes = int(code_index.max()) + 1  # rows is never empty here
    group, _ = A.factorize((ci[rows] * n_codes + code_index[rows]) * len(days) + day_index)
    seen = np.maximum.accumulate(group)
    first = A.rows_where(np.concatenate((_TRUE, group[1:] > seen[:-1])))
    return group, first


_TRUE = np.ones(1, dtype=bool)
_ZERO_GROUP = np.zeros(1, dtype=np.int64)
_ZERO_GROUP.flags.writeable = False
