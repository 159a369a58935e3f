"""The rule engine: every rule of CONTRACT §3 over whole arrays of service lines.

One code path serves a million-line batch and a single API claim. Each rule is a boolean mask
over lines (or claims), built from NumPy operations; string checks (codes, NDCs, descriptions,
modifiers) run once per distinct value and are spread back with a take; per-claim facts are
``np.bincount`` / ``np.minimum.at`` keyed on ``claim_index``; diagnoses and attachments are joined
by ``claim_index``. Only the rows that fire get Python objects (their evidence dicts), so the
cost of explanation scales with the problems found, not with the input.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from claims.columnar import ClaimFrame
from features.payer_policy import PolicySet
from features.rules import _arrays as A
from features.rules.catalog import (
    NOT_SENT_TRANSMISSION,
    OPPS_ONLY_NOC_CODE,
    RULE_CODE,
    RULE_IDS,
    RULES,
    VALID_NDC_UNITS,
    WASTE_MODIFIERS,
    is_admin_code,
)
from features.rules.description import description_gaps

if TYPE_CHECKING:
    from reference.store import ReferenceData

CHARGE_TOLERANCE = 0.01  # dollars: a total within a cent of the line sum is balanced
UNITS_TOLERANCE_SHARE = 0.10  # UNITS_MISMATCH: max(1 unit, 10 % of expected)
_EPS = 1e-6  # absorbs binary float noise at the tolerance boundaries (0.01 is not exact in binary)
_LINE_KEY = 1000  # line numbers are 1..999, so claim_index * 1000 + line_number is unique
_NAT = np.datetime64("NaT", "D")

# Alphabetical rank of each rule code: results are sorted by line, then rule id.
_ALPHA_RANK = np.argsort(np.argsort(np.array(RULE_IDS, dtype=object)))


@functools.cache
def default_policies() -> PolicySet:
    return PolicySet.load()


def default_reference() -> ReferenceData:
    from reference.store import load_reference

    return load_reference()


@dataclass
class LineFacts:
    """Per-line facts the rules derive and the featurizer reuses (so serving computes them once)."""

    policy: np.ndarray  # int64 index into the PolicySet table
    code: np.ndarray  # object: procedure code, stripped and upper-cased
    code_index: np.ndarray  # int64 per line into code_uniques
    code_uniques: list[str]
    is_noc: np.ndarray
    is_drug: np.ndarray
    is_specific_drug: np.ndarray  # a drug code listed in the CMS files and not NOC
    is_admin: np.ndarray
    ndc11: np.ndarray  # object: 11-digit NDC or None
    ndc_present: np.ndarray
    service_date: np.ndarray  # datetime64[D], service date or the submission date when missing
    has_waste_modifier: np.ndarray
    modifier_jw: np.ndarray
    modifier_jz: np.ndarray
    claim_policy: np.ndarray  # per claim
    attachment_is_invoice: np.ndarray  # per attachment row
    diagnosis_status: np.ndarray  # per diagnosis row: 0 billable, 1 not billable, 2 invalid


@dataclass
class FiredRules:
    """Fired rules as parallel arrays, sorted by claim, then line (claim level first), then rule id."""

    n_claims: int
    claim_ids: np.ndarray
    claim_index: np.ndarray  # int64
    rule: np.ndarray  # int64 code into RULE_IDS
    line_number: np.ndarray  # int64, -1 at claim level
    evidence: list[dict[str, Any]]
    facts: LineFacts | None = field(default=None, repr=False)
    _offsets: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.claim_index.shape[0])

    @property
    def rule_ids(self) -> np.ndarray:
        return np.asarray(RULE_IDS, dtype=object)[self.rule]

    @property
    def offsets(self) -> np.ndarray:
        if self._offsets is None:
            counts = np.bincount(self.claim_index, minlength=self.n_claims)
            self._offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return self._offsets

    def _result(self, row: int) -> dict[str, Any]:
        spec = RULES[RULE_IDS[self.rule[row]]]
        evidence = self.evidence[row]
        line = int(self.line_number[row])
        return {
            "id": spec.id,
            "line_number": None if line < 0 else line,
            "severity": spec.severity,
            "message": spec.render(evidence),
            "evidence": evidence,
            "carc": spec.carc,
            "rarc": list(spec.rarc),
            "fix": spec.render_fix(evidence),
        }

    def for_claim(self, i: int) -> list[dict[str, Any]]:
        """CONTRACT §3 objects for claim ``i`` (without ``risk_if_fixed``, which needs a model)."""
        start, stop = self.offsets[i], self.offsets[i + 1]
        return [self._result(row) for row in range(int(start), int(stop))]

    def results(self) -> list[list[dict[str, Any]]]:
        offsets = self.offsets.tolist()
        return [[self._result(row) for row in range(offsets[i], offsets[i + 1])] for i in range(self.n_claims)]

    def flag_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many times each rule fired on each claim (lines, or 1 at claim level)."""
        flat = self.claim_index * len(RULE_IDS) + self.rule
        counts = np.bincount(flat, minlength=self.n_claims * len(RULE_IDS))
        return counts.reshape(self.n_claims, len(RULE_IDS))

    def line_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many lines each rule fired on (claim-level rows not counted)."""
        on_line = self.line_number >= 0
        flat = self.claim_index[on_line] * len(RULE_IDS) + self.rule[on_line]
        counts = np.bincount(flat, minlength=self.n_claims * len(RULE_IDS))
        return counts.reshape(self.n_claims, len(RULE_IDS))


class _Collector:
    """Accumulates fired rows rule by rule; evidence dicts are built from the fired subset only."""

    def __init__(self) -> None:
        self.claims: list[np.ndarray] = []
        self.rules: list[np.ndarray] = []
        self.lines: list[np.ndarray] = []
        self.evidence: list[dict[str, Any]] = []

    def add(self, rule_id: str, claim_index: np.ndarray, line_number: np.ndarray, evidence: dict[str, Any]) -> None:
        """``evidence``: key -> per-fired-row list (or a scalar shared by all rows)."""
        n = int(claim_index.shape[0])
        if n == 0:
            return
        self.claims.append(claim_index.astype(np.int64, copy=False))
        self.rules.append(np.full(n, RULE_CODE[rule_id], dtype=np.int64))
        self.lines.append(line_number.astype(np.int64, copy=False))
        keys = list(evidence)
        columns = [v if isinstance(v, list) else [v] * n for v in evidence.values()]
        self.evidence.extend(dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True))

    def finish(self, n_claims: int, claim_ids: np.ndarray, facts: LineFacts) -> FiredRules:
        if not self.claims:
            empty = np.empty(0, dtype=np.int64)
            return FiredRules(n_claims, claim_ids, empty, empty.copy(), empty.copy(), [], facts)
        claim_index = np.concatenate(self.claims)
        rule = np.concatenate(self.rules)
        line_number = np.concatenate(self.lines)
        order = np.lexsort((_ALPHA_RANK[rule], line_number, claim_index))
        evidence = [self.evidence[i] for i in order.tolist()]
        return FiredRules(n_claims, claim_ids, claim_index[order], rule[order], line_number[order], evidence, facts)


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN -> None (JSON has no NaN)


def _iso(values: np.ndarray) -> list[str | None]:
    text = np.datetime_as_string(values, unit="D")
    return [None if t == "NaT" else t for t in text.tolist()]


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _per_claim(values: np.ndarray, claim_index: np.ndarray, n_claims: int, fill: Any) -> np.ndarray:
    """A claim field repeated on its lines -> one value per claim (claims without lines get ``fill``)."""
    out = np.full(n_claims, fill, dtype=values.dtype)
    out[claim_index] = values
    return out


_DX_CACHE: dict[str, int] = {}
_DX_CACHE_MAX = 200_000


def _diagnosis_status(codes: np.ndarray) -> np.ndarray:
    """ICD-10-CM status per code, memoised: the same few thousand codes recur on every claim."""
    from reference.icd10 import diagnosis_status

    codes_idx, uniques = A.factorize(codes)
    missing = [u for u in uniques if u not in _DX_CACHE]
    if missing:
        arr = np.empty(len(missing), dtype=object)
        arr[:] = missing
        found = diagnosis_status(arr)
        if len(_DX_CACHE) + len(missing) > _DX_CACHE_MAX:
            _DX_CACHE.clear()
        _DX_CACHE.update(zip(missing, found.tolist(), strict=True))
    table = np.fromiter((_DX_CACHE[u] for u in uniques), dtype=np.int8, count=len(uniques))
    return table[codes_idx]


_NDC_CACHE: dict[Any, Any] = {}
_MEMO_MAX = 200_000


def _ndc11(ndc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """11-digit NDC per row, memoised per distinct raw value (cheap on one claim, one pass on a batch)."""
    from reference.ndc import normalize_ndc

    codes, uniques = A.factorize(ndc)
    missing = [u for u in uniques if u not in _NDC_CACHE]
    if missing:
        values = np.empty(len(missing), dtype=object)
        values[:] = missing
        if len(_NDC_CACHE) + len(missing) > _MEMO_MAX:
            _NDC_CACHE.clear()
        _NDC_CACHE.update(zip(missing, normalize_ndc(values).tolist(), strict=True))
    table = np.empty(len(uniques), dtype=object)
    table[:] = [_NDC_CACHE[u] for u in uniques]
    valid = np.array([v is not None for v in table.tolist()], dtype=bool)
    return table[codes], valid[codes]


class _ReferenceLookups:
    """Crosswalk look-ups for the rows that need them.

    Big inputs go straight to the vectorized ``ReferenceData`` methods. Small inputs (the API's one
    claim) hit memo dicts first: the reference methods factorize with pandas (~20 µs a call), which
    is noise on a batch but most of the budget of a single claim. The memo lives on this object,
    which is cached per ``ReferenceData`` instance, so a reloaded reference never sees stale answers.
    """

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference
        self.quarters: dict[int, int] = {}
        self.codes: dict[tuple[int, str], tuple[str, ...]] = {}
        self.units: dict[tuple[int, str, str], float] = {}

    def quarter_index(self, dates: np.ndarray) -> np.ndarray:
        if dates.shape[0] > A.SMALL:
            return self.reference.quarter_index(dates)
        days = dates.astype(np.int64).tolist()
        missing = [d for d in dict.fromkeys(days) if d not in self.quarters]
        if missing:
            found = self.reference.quarter_index(np.asarray(missing, dtype=np.int64).astype("datetime64[D]"))
            self._bounded(self.quarters, len(missing)).update(zip(missing, found.tolist(), strict=True))
        return np.fromiter((self.quarters[d] for d in days), dtype=np.int64, count=len(days))

    def codes_for_ndc(self, quarter_idx: np.ndarray, ndc11: np.ndarray) -> np.ndarray:
        if quarter_idx.shape[0] > A.SMALL:
            return self.reference.codes_for_ndc(quarter_idx, ndc11)
        keys = list(zip(quarter_idx.tolist(), ndc11.tolist(), strict=True))
        missing = [k for k in dict.fromkeys(keys) if k not in self.codes]
        if missing:
            q = np.fromiter((k[0] for k in missing), dtype=np.int64, count=len(missing))
            n = np.empty(len(missing), dtype=object)
            n[:] = [k[1] for k in missing]
            found = self.reference.codes_for_ndc(q, n)
            self._bounded(self.codes, len(missing)).update(zip(missing, found.tolist(), strict=True))
        return np.fromiter((self.codes[k] for k in keys), dtype=object, count=len(keys))

    def bill_units(self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray) -> np.ndarray:
        if quarter_idx.shape[0] > A.SMALL:
            return self.reference.bill_units(quarter_idx, ndc11, hcpcs)
        keys = list(zip(quarter_idx.tolist(), ndc11.tolist(), hcpcs.tolist(), strict=True))
        missing = [k for k in dict.fromkeys(keys) if k not in self.units]
        if missing:
            q = np.fromiter((k[0] for k in missing), dtype=np.int64, count=len(missing))
            n = np.empty(len(missing), dtype=object)
            n[:] = [k[1] for k in missing]
            h = np.empty(len(missing), dtype=object)
            h[:] = [k[2] for k in missing]
            found = self.reference.bill_units(q, n, h)
            self._bounded(self.units, len(missing)).update(zip(missing, found.tolist(), strict=True))
        return np.fromiter((self.units[k] for k in keys), dtype=np.float64, count=len(keys))

    @staticmethod
    def _bounded(memo: dict[Any, Any], adding: int) -> dict[Any, Any]:
        if len(memo) + adding > _MEMO_MAX:
            memo.clear()
        return memo


_LOOKUPS: weakref.WeakKeyDictionary[Any, _ReferenceLookups] = weakref.WeakKeyDictionary()


def _lookups(reference: ReferenceData) -> _ReferenceLookups:
    found = _LOOKUPS.get(reference)
    if found is None:
        found = _LOOKUPS[reference] = _ReferenceLookups(reference)
    return found


def _isin_small(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin`` without its sort for the tiny arrays of one claim."""
    if values.shape[0] * keys.shape[0] <= 4096:
        return (values[:, None] == keys[None, :]).any(axis=1)
    return np.isin(values, keys)


def evaluate(
    frame: ClaimFrame, *, policies: PolicySet | None = None, reference: ReferenceData | None = None
) -> FiredRules:
    """All rules on all claims of ``frame``. ``policies``/``reference`` default to the shipped ones."""
    policies = policies if policies is not None else default_policies()
    reference = reference if reference is not None else default_reference()
    L = frame.lines
    n_claims = frame.n_claims
    ci = L["claim_index"]
    line_no = L["line_number"]
    out = _Collector()

    # --- who pays, and what the codes are -------------------------------------------------------
    policy = policies.resolve(L["payer_id"], L["payer_type"])
    code_idx, code_uniques = A.factorize(L["procedure_code"])
    code_norm = [_upper(c) for c in code_uniques]
    code_table = np.empty(len(code_norm), dtype=object)
    code_table[:] = code_norm
    code = code_table[code_idx]
    noc_sets = policies.column("noc_codes")
    noc_table = np.array([[c in s for c in code_norm] for s in noc_sets.tolist()], dtype=bool).reshape(
        len(noc_sets), len(code_norm)
    )
    is_noc = noc_table[policy, code_idx]
    drug_hcpcs = reference.drug_hcpcs
    in_cms = np.array([c in drug_hcpcs for c in code_norm], dtype=bool)[code_idx]
    is_admin = np.array([is_admin_code(c) for c in code_norm], dtype=bool)[code_idx]
    has_drug = L["has_drug"]
    is_drug = is_noc | in_cms | has_drug
    is_specific = in_cms & ~is_noc

    claim_type = _per_claim(L["claim_type"], ci, n_claims, None)
    professional_line = A.map_unique(L["claim_type"], lambda t: t == "professional", np.bool_)
    claim_policy = _per_claim(policy, ci, n_claims, 0)

    # --- NDC --------------------------------------------------------------------------------------
    ndc_raw = L["ndc"]
    ndc_present = ~A.is_blank(ndc_raw)
    ndc11, normalized = _ndc11(ndc_raw)
    ndc_valid = ndc_present & normalized
    rows = np.flatnonzero(is_drug & ~ndc_present)
    out.add("NDC_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows].tolist()})
    rows = np.flatnonzero(ndc_present & ~ndc_valid)
    out.add(
        "NDC_INVALID", ci[rows], line_no[rows],
        {"ndc": ndc_raw[rows].tolist(), "procedure_code": code[rows].tolist()},
    )

    quantity = L["drug_quantity"]
    rows = np.flatnonzero(ndc_present & ~(quantity > 0))
    out.add(
        "NDC_QUANTITY_INVALID", ci[rows], line_no[rows],
        {"ndc": ndc_raw[rows].tolist(), "drug_quantity": _floats(quantity[rows])},
    )

    unit_idx, unit_uniques = A.factorize(L["drug_unit"])
    unit_norm = [_upper(u) for u in unit_uniques]
    unit_table = np.empty(len(unit_norm), dtype=object)
    unit_table[:] = unit_norm
    drug_unit = unit_table[unit_idx]
    unit_known = np.array([u in VALID_NDC_UNITS for u in unit_norm], dtype=bool)[unit_idx]
    banned_sets = policies.column("banned_ndc_units").tolist()
    banned_table = np.array([[u in s for u in unit_norm] for s in banned_sets], dtype=bool).reshape(
        len(banned_sets), len(unit_norm)
    )
    unit_banned = banned_table[policy, unit_idx]
    rows = np.flatnonzero(ndc_present & (~unit_known | unit_banned))
    if rows.size:
        problems = [
            "missing" if not u else ("not accepted by this payer" if k else "not one of F2, GR, ME, ML, UN")
            for u, k in zip(drug_unit[rows].tolist(), unit_known[rows].tolist(), strict=True)
        ]
        out.add(
            "NDC_UNIT_INVALID", ci[rows], line_no[rows],
            {"drug_unit": L["drug_unit"][rows].tolist(), "problem": problems},
        )

    # --- units ------------------------------------------------------------------------------------
    units = L["units"]
    units_invalid = ~(units > 0)
    rows = np.flatnonzero(units_invalid)
    out.add("UNITS_INVALID", ci[rows], line_no[rows], {"units": _floats(units[rows])})
    noc_units_one = policies.column("noc_units_one").astype(bool)[policy]
    rows = np.flatnonzero(is_noc & noc_units_one & ~(np.abs(units - 1.0) <= _EPS))
    out.add(
        "NOC_UNITS_NOT_ONE", ci[rows], line_no[rows],
        {"procedure_code": code[rows].tolist(), "units": _floats(units[rows])},
    )

    # --- crosswalk: the quarter in force on the service date ------------------------------------
    service_date = L["service_date"]
    submission = L["submission_date"]
    service_eff = np.where(np.isnat(service_date), submission, service_date)
    xw_rows = np.flatnonzero(ndc_valid & (is_noc | is_specific) & ~np.isnat(service_eff))
    if xw_rows.size:
        lookups = _lookups(reference)
        quarter_idx = lookups.quarter_index(service_eff[xw_rows])
        listed = lookups.codes_for_ndc(quarter_idx, ndc11[xw_rows])
        quarters = reference.quarters
        noc_here = noc_sets[policy[xw_rows]]
        specific_codes = [
            tuple(c for c in codes if c not in noc) for codes, noc in zip(listed.tolist(), noc_here.tolist(), strict=True)
        ]
        xw_code = code[xw_rows].tolist()
        hit_specific = np.array(
            [bool(s) for s in specific_codes], dtype=bool
        ) & is_noc[xw_rows]
        hit_mismatch = np.array(
            [bool(codes) and c not in codes for codes, c in zip(listed.tolist(), xw_code, strict=True)], dtype=bool
        ) & is_specific[xw_rows]
        sel = np.flatnonzero(hit_specific)
        if sel.size:
            rows = xw_rows[sel]
            out.add(
                "SPECIFIC_CODE_EXISTS", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows].tolist(),
                    "ndc": ndc11[rows].tolist(),
                    "specific_codes": [list(specific_codes[i]) for i in sel.tolist()],
                    "quarter": [quarters[q] for q in quarter_idx[sel].tolist()],
                },
            )
        sel = np.flatnonzero(hit_mismatch)
        if sel.size:
            rows = xw_rows[sel]
            out.add(
                "NDC_HCPCS_MISMATCH", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows].tolist(),
                    "ndc": ndc11[rows].tolist(),
                    "listed_codes": [list(listed[i]) for i in sel.tolist()],
                    "quarter": [quarters[q] for q in quarter_idx[sel].tolist()],
                },
            )
        # UNITS_MISMATCH: the NDC is listed under this very code, counted in whole items (UN)
        un = np.flatnonzero(
            is_specific[xw_rows] & (drug_unit[xw_rows] == "UN") & (quantity[xw_rows] > 0) & np.isfinite(units[xw_rows])
        )
        if un.size:
            rows = xw_rows[un]
            bill_units = lookups.bill_units(quarter_idx[un], ndc11[rows], code[rows])
            expected = quantity[rows] * bill_units
            tolerance = np.maximum(1.0, UNITS_TOLERANCE_SHARE * expected)
            fire = np.isfinite(expected) & (np.abs(units[rows] - expected) > tolerance + _EPS)
            sel = np.flatnonzero(fire)
            if sel.size:
                rows = rows[sel]
                out.add(
                    "UNITS_MISMATCH", ci[rows], line_no[rows],
                    {
                        "procedure_code": code[rows].tolist(),
                        "ndc": ndc11[rows].tolist(),
                        "drug_quantity": _floats(quantity[rows]),
                        "drug_unit": "UN",
                        "bill_units": _floats(bill_units[sel]),
                        "expected_units": _floats(np.round(expected[sel], 4)),
                        "units": _floats(units[rows]),
                        "tolerance": _floats(np.round(tolerance[sel], 4)),
                        "quarter": [quarters[q] for q in quarter_idx[un][sel].tolist()],
                    },
                )

    # --- descriptions of NOC lines ----------------------------------------------------------------
    noc_rows = np.flatnonzero(is_noc)
    if noc_rows.size:
        desc = L["description"][noc_rows]
        note = L["line_note"][noc_rows]
        blank = A.is_blank(desc) & A.is_blank(note)
        rows = noc_rows[blank]
        out.add("DESCRIPTION_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows].tolist()})
        present = np.flatnonzero(~blank)
        if present.size:
            pair_idx, pairs = A.factorize_pairs(desc[present], note[present])
            gaps = np.array([description_gaps(d, n) for d, n in pairs], dtype=bool).reshape(len(pairs), 2)
            name_ok = gaps[pair_idx, 0]
            strength_ok = gaps[pair_idx, 1]
            sel = np.flatnonzero(~(name_ok & strength_ok))
            if sel.size:
                rows = noc_rows[present[sel]]
                missing = [
                    "a drug name and a strength or dose" if not n and not s else ("a drug name" if not n else "a strength or dose")
                    for n, s in zip(name_ok[sel].tolist(), strength_ok[sel].tolist(), strict=True)
                ]
                out.add(
                    "DESCRIPTION_INCOMPLETE", ci[rows], line_no[rows],
                    {
                        "procedure_code": code[rows].tolist(),
                        "has_drug_name": name_ok[sel].tolist(),
                        "has_strength": strength_ok[sel].tolist(),
                        "missing": missing,
                    },
                )

    # --- attachments: invoices and supporting records ---------------------------------------------
    att = frame.attachments
    a_ci = att["claim_index"]
    a_line = att["line_number"]
    a_policy = claim_policy[a_ci]
    rt_idx, rt_uniques = A.factorize(att["report_type"])
    rt_norm = [_upper(r) for r in rt_uniques]
    types_sets = policies.column("invoice_report_types").tolist()
    rt_table = np.array([[r in s for r in rt_norm] for s in types_sets], dtype=bool).reshape(
        len(types_sets), len(rt_norm)
    )
    sent = A.map_unique(att["transmission"], lambda t: _upper(t) != NOT_SENT_TRANSMISSION, np.bool_)
    a_invoice = rt_table[a_policy, rt_idx] & sent if a_ci.size else np.zeros(0, dtype=bool)
    line_key = ci * _LINE_KEY + line_no
    claim_level = a_line < 0

    def covered(mask: np.ndarray) -> np.ndarray:
        """Per line: an attachment in ``mask`` sits at its claim level or on this very line."""
        if not mask.any():
            return np.zeros(ci.shape[0], dtype=bool)
        at_claim = A.group_any(a_ci, mask & claim_level, n_claims)[ci]
        keys = a_ci[mask & ~claim_level] * _LINE_KEY + a_line[mask & ~claim_level]
        return at_claim | _isin_small(line_key, keys)

    if noc_rows.size:
        charge = L["charge"]
        inv_required = policies.column("invoice_required").astype(bool)[policy]
        min_charge = policies.column("invoice_min_charge").astype(np.float64)[policy]
        needs_invoice = is_noc & inv_required & ~(charge < min_charge)
        rows = np.flatnonzero(needs_invoice & ~covered(a_invoice))
        if rows.size:
            out.add(
                "INVOICE_MISSING", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows].tolist(),
                    "charge": _floats(charge[rows]),
                    "invoice_report_types": [sorted(types_sets[p]) for p in policy[rows].tolist()],
                    "invoice_min_charge": _floats(min_charge[rows]),
                },
            )
        docs_required = policies.column("documentation_required").astype(bool)[policy]
        rows = np.flatnonzero(is_noc & docs_required & ~covered(sent))
        if rows.size:
            n_att = np.bincount(a_ci, minlength=n_claims)[ci[rows]]
            out.add(
                "DOCUMENTATION_MISSING", ci[rows], line_no[rows],
                {"procedure_code": code[rows].tolist(), "attachments_not_sent": n_att.tolist()},
            )
        pa_required = policies.column("prior_auth_required").astype(bool)[policy]
        no_pa = A.is_blank(L["claim_prior_authorization"]) & A.is_blank(L["line_prior_authorization"])
        rows = np.flatnonzero(is_noc & pa_required & no_pa)
        out.add("PRIOR_AUTH_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows].tolist()})

    # --- diagnoses ------------------------------------------------------------------------------------
    dx = frame.diagnoses
    d_ci = dx["claim_index"]
    n_dx = np.bincount(d_ci, minlength=n_claims)
    claims_with_lines = np.bincount(ci, minlength=n_claims) > 0
    claims = np.flatnonzero((n_dx == 0) & claims_with_lines)
    out.add("DIAGNOSIS_MISSING", claims, np.full(claims.size, -1), {"diagnosis_count": 0})
    dx_status = _diagnosis_status(dx["code"]) if d_ci.size else np.zeros(0, dtype=np.int8)
    bad = np.flatnonzero(dx_status != 0)
    if bad.size:
        claims = np.unique(d_ci[bad])
        by_claim: dict[int, tuple[list[str], list[int], list[str]]] = {int(c): ([], [], []) for c in claims}
        for c, code_value, pos, status in zip(
            d_ci[bad].tolist(), dx["code"][bad].tolist(), dx["position"][bad].tolist(), dx_status[bad].tolist(),
            strict=True,
        ):
            entry = by_claim[c]
            entry[0].append(code_value)
            entry[1].append(pos)
            entry[2].append("not billable (a category; use a more specific code)" if status == 1 else "not a valid ICD-10-CM code")
        out.add(
            "DIAGNOSIS_INVALID", claims, np.full(claims.size, -1),
            {
                "codes": [by_claim[c][0] for c in claims.tolist()],
                "positions": [by_claim[c][1] for c in claims.tolist()],
                "reasons": [by_claim[c][2] for c in claims.tolist()],
            },
        )
    line_n_dx = n_dx[ci]
    p_count, p_min, p_max = L["pointer_count"], L["pointer_min"], L["pointer_max"]
    rows = np.flatnonzero((p_count == 0) | (p_min < 1) | (p_max > line_n_dx))
    if rows.size:
        problems = [
            "The line has no diagnosis pointer."
            if count == 0
            else f"Diagnosis pointer(s) {low}..{high} fall outside 1..{nd} (the claim has {nd} diagnosis code(s))."
            for count, low, high, nd in zip(
                p_count[rows].tolist(), p_min[rows].tolist(), p_max[rows].tolist(), line_n_dx[rows].tolist(), strict=True
            )
        ]
        out.add(
            "DIAGNOSIS_POINTER_INVALID", ci[rows], line_no[rows],
            {
                "pointer_count": p_count[rows].tolist(),
                "pointer_min": p_min[rows].tolist(),
                "pointer_max": p_max[rows].tolist(),
                "diagnosis_count": line_n_dx[rows].tolist(),
                "problem": problems,
            },
        )

    # --- claim-level billing shape ------------------------------------------------------------------
    professional = np.equal(claim_type, "professional")
    has_noc = A.group_any(ci, is_noc, n_claims)
    has_admin = A.group_any(ci, is_admin, n_claims)
    claims = np.flatnonzero(professional & has_noc & ~has_admin)
    if claims.size:
        noc_codes_by_claim: dict[int, list[str]] = {int(c): [] for c in claims}
        for c, code_value in zip(ci[noc_rows].tolist(), code[noc_rows].tolist(), strict=True):
            found = noc_codes_by_claim.get(c)
            if found is not None and code_value not in found:
                found.append(code_value)
        out.add(
            "ADMIN_CODE_MISSING", claims, np.full(claims.size, -1),
            {"noc_codes": [noc_codes_by_claim[c] for c in claims.tolist()]},
        )

    mod_idx, mod_uniques = A.factorize(L["modifiers"])
    mod_sets = [frozenset(m.split("|")) if isinstance(m, str) and m else frozenset() for m in mod_uniques]
    jw = np.array(["JW" in s for s in mod_sets], dtype=bool)[mod_idx]
    jz = np.array(["JZ" in s for s in mod_sets], dtype=bool)[mod_idx]
    has_waste = np.array([bool(s & WASTE_MODIFIERS) for s in mod_sets], dtype=bool)[mod_idx]
    waste_required = policies.column("waste_modifier_required").astype(bool)[policy]
    rows = np.flatnonzero(is_drug & waste_required & ~has_waste)
    out.add(
        "WASTE_MODIFIER_MISSING", ci[rows], line_no[rows],
        {"procedure_code": code[rows].tolist(), "modifiers": [m.split("|") if m else [] for m in L["modifiers"][rows].tolist()]},
    )

    rows = np.flatnonzero((code == OPPS_ONLY_NOC_CODE) & professional_line)
    out.add(
        "NOC_CODE_SETTING", ci[rows], line_no[rows],
        {"procedure_code": code[rows].tolist(), "claim_type": "professional"},
    )

    # --- timely filing ------------------------------------------------------------------------------------
    service_days = service_eff.astype("datetime64[D]").astype(np.int64)
    valid_day = ~np.isnat(service_eff)
    earliest = np.full(n_claims, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, ci[valid_day], service_days[valid_day])
    claim_submission = _per_claim(submission, ci, n_claims, _NAT)
    has_dates = (earliest != np.iinfo(np.int64).max) & ~np.isnat(claim_submission)
    days = np.where(has_dates, claim_submission.astype(np.int64) - np.where(has_dates, earliest, 0), 0)
    limit = policies.column("filing_limit_days").astype(np.int64)[claim_policy]
    claims = np.flatnonzero(has_dates & (days > limit))
    if claims.size:
        out.add(
            "TIMELY_FILING", claims, np.full(claims.size, -1),
            {
                "earliest_service_date": _iso(earliest[claims].astype("datetime64[D]")),
                "submission_date": _iso(claim_submission[claims]),
                "days_since_service": days[claims].tolist(),
                "filing_limit_days": limit[claims].tolist(),
            },
        )

    # --- charges --------------------------------------------------------------------------------------------
    charge = L["charge"]
    rows = np.flatnonzero(~(charge > 0))
    if rows.size:
        out.add(
            "CHARGE_INVALID", ci[rows], line_no[rows],
            {
                "charge": _floats(charge[rows]),
                "problem": [
                    "The line has no charge." if v != v else f"The line charge {v:.2f} is not greater than zero."
                    for v in charge[rows].tolist()
                ],
            },
        )
    line_sum = np.bincount(ci, weights=np.where(np.isnan(charge), 0.0, charge), minlength=n_claims)
    total = _per_claim(L["total_charge"], ci, n_claims, np.nan)
    difference = total - line_sum
    claims = np.flatnonzero(claims_with_lines & ~(np.abs(difference) <= CHARGE_TOLERANCE + _EPS))
    if claims.size:
        out.add(
            "CHARGE_INVALID", claims, np.full(claims.size, -1),
            {
                "total_charge": _floats(total[claims]),
                "line_charge_sum": _floats(np.round(line_sum[claims], 2)),
                "difference": _floats(np.round(difference[claims], 2)),
                "problem": [
                    "The claim has no total charge."
                    if t != t
                    else f"The total charge {t:.2f} differs from the sum of the line charges {s:.2f}."
                    for t, s in zip(total[claims].tolist(), line_sum[claims].tolist(), strict=True)
                ],
            },
        )

    facts = LineFacts(
        policy=policy,
        code=code,
        code_index=code_idx,
        code_uniques=code_norm,
        is_noc=is_noc,
        is_drug=is_drug,
        is_specific_drug=is_specific,
        is_admin=is_admin,
        ndc11=ndc11,
        ndc_present=ndc_present,
        service_date=service_eff,
        has_waste_modifier=has_waste,
        modifier_jw=jw,
        modifier_jz=jz,
        claim_policy=claim_policy,
        attachment_is_invoice=a_invoice,
        diagnosis_status=dx_status,
    )
    return out.finish(n_claims, frame.claim_ids, facts)
