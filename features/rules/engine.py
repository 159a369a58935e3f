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
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
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
from reference.icd10 import diagnosis_status
from reference.ndc import normalize_ndc
from reference.store import load_reference

if TYPE_CHECKING:
    from reference.store import ReferenceData

CHARGE_TOLERANCE = 0.01  # dollars: a total within a cent of the line sum is balanced
UNITS_TOLERANCE_SHARE = 0.10  # UNITS_MISMATCH: max(1 unit, 10 % of expected)
_EPS = 1e-6  # absorbs binary float noise at the tolerance boundaries (0.01 is not exact in binary)
_LINE_KEY = 1000  # line numbers are 1..999, so claim_index * 1000 + line_number is unique
_NAT = np.datetime64("NaT", "D")
_NOT_BILLABLE = "not billable (a category; use a more specific code)"
_NOT_VALID = "not a valid ICD-10-CM code"

# Alphabetical rank of each rule code: results are sorted by line, then rule id.
_ALPHA_RANK = np.argsort(np.argsort(np.array(RULE_IDS, dtype=object)))


@functools.cache
def default_policies() -> PolicySet:
    return PolicySet.load()


def default_reference() -> ReferenceData:
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
    prior_authorization: np.ndarray | None = None  # per line: the claim or the line carries a PA number
    # the crosswalk look-up the NDC rules made: which lines (valid NDC on a NOC or specific drug code
    # with a date), the quarter index in force for each, and the codes CMS lists each NDC under
    crosswalk_rows: np.ndarray | None = None
    crosswalk_quarter: np.ndarray | None = None
    crosswalk_listed: np.ndarray | None = None
    # start row of each claim when the lines are grouped by claim in order (what readers build), else None
    claim_first_row: np.ndarray | None = None
    # the diagnosis codes as the ICD-10 check factorized them: per diagnosis row an index into the
    # distinct raw codes (so the featurizer's chapters and categories need no second pass)
    diagnosis_index: np.ndarray | None = None
    diagnosis_uniques: list[Any] | None = None


class EvidenceBlock:
    """Evidence of one rule's fired rows as columns: a list, array or :class:`Lazy` per key, or a scalar.

    Columns are turned into JSON-ready Python lists on first use, in one vectorized pass per column,
    so rendering many results costs a list index per value rather than a NumPy scalar conversion.
    """

    __slots__ = ("keys", "columns", "_lists", "_row_keys")

    def __init__(self, keys: tuple[str, ...], columns: tuple[Any, ...]) -> None:
        self.keys = keys
        self.columns = columns
        self._lists: list[tuple[str, Any, bool]] | None = None
        self._row_keys: list[tuple[Any, ...]] | None = None

    def _materialized(self) -> list[tuple[str, Any, bool]]:
        lists = self._lists
        if lists is None:
            lists = self._lists = [(k, *_materialize(c)) for k, c in zip(self.keys, self.columns, strict=True)]
        return lists

    def row(self, r: int) -> dict[str, Any]:
        return {k: (c[r] if per_row else c) for k, c, per_row in self._materialized()}

    def row_key(self, r: int) -> tuple[Any, ...]:
        """The row's evidence values, hashable (lists as tuples): equal keys give equal evidence, since
        each column of a block holds one type (an int never meets a float or a bool in one column).
        Built for all rows at once on first use: a zip over the columns instead of a loop per row."""
        keys = self._row_keys
        if keys is None:
            materialized = self._materialized()
            per_row = [c for _, c, is_per_row in materialized if is_per_row]
            if not per_row:
                return tuple(_hashable_value(c) for _, c, _ in materialized)
            n = len(per_row[0])
            columns = [
                _hashable_column(c) if is_per_row else [_hashable_value(c)] * n for _, c, is_per_row in materialized
            ]
            keys = self._row_keys = list(zip(*columns, strict=True))
        return keys[r]


def _hashable_value(value: Any) -> Any:
    if type(value) is list:
        return tuple(value)
    if type(value) is float and value == 0.0:  # 0.0 == -0.0, but JSON spells them differently
        return (_ZERO_MARK, math.copysign(1.0, value))
    return value


_ZERO_MARK = object()


def _hashable_column(values: list[Any]) -> list[Any]:
    if any(type(v) is list or (type(v) is float and v == 0.0) for v in values):
        return [_hashable_value(v) for v in values]
    return values


def _materialize(column: Any) -> tuple[Any, bool]:
    """(values, per_row): a column as a JSON-ready list (NaN/NaT -> None), or a scalar shared by all rows."""
    if isinstance(column, np.ndarray):
        kind = column.dtype.kind
        if kind == "f":
            return [None if v != v else v for v in column.tolist()], True
        if kind == "M":
            text = np.datetime_as_string(column.astype("datetime64[D]"), unit="D").tolist()
            return [None if t == "NaT" else t for t in text], True
        return column.tolist(), True
    if isinstance(column, list):
        return column, True
    if isinstance(column, Lazy):
        values = column.values.tolist() if isinstance(column.values, np.ndarray) else column.values
        return [column.fn(v) for v in values], True
    return column, False


@dataclass(frozen=True)
class Lazy:
    """A per-row evidence value computed only when the result is rendered."""

    values: Any  # array or list indexed by the fired row
    fn: Any  # value -> JSON-ready value


def _split_modifiers(joined: Any) -> list[str]:
    return joined.split("|") if joined else []


class FiredRules:
    """Fired rules as parallel arrays, sorted by claim, then line (claim level first), then rule id.

    Evidence is kept as per-rule column blocks and turned into dicts only when a result is asked
    for: training and batch scoring need the arrays, not a million small dicts. The engine hands
    over its rows rule by rule and the sort into claim order happens on first use of the row
    arrays: the featurizer only counts flags per claim, which needs no order, and a million-line
    batch has millions of fired rows whose sort and gathers would cost more than the rules.
    """

    def __init__(
        self,
        n_claims: int,
        claim_ids: np.ndarray,
        claim_index: np.ndarray,  # int64
        rule: np.ndarray,  # int64 code into RULE_IDS
        line_number: np.ndarray,  # int64, -1 at claim level
        evidence_block: np.ndarray,  # int64 index into blocks, per fired row
        evidence_row: np.ndarray,  # int64 row within that block
        blocks: list[EvidenceBlock] | None = None,
        facts: LineFacts | None = None,
    ) -> None:
        self.n_claims = n_claims
        self.claim_ids = claim_ids
        self.blocks: list[EvidenceBlock] = blocks if blocks is not None else []
        self.facts = facts
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = (
            claim_index, rule, line_number, evidence_block, evidence_row,
        )
        self._pending: _Collector | None = None
        self._offsets: np.ndarray | None = None

    @classmethod
    def _from_collector(cls, n_claims: int, claim_ids: np.ndarray, collector: _Collector, facts: LineFacts) -> FiredRules:
        empty = np.empty(0, dtype=np.int64)
        fired = cls(n_claims, claim_ids, empty, empty, empty, empty, empty, collector.blocks, facts)
        if collector.claims:
            fired._sorted = None
            fired._pending = collector
        return fired

    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._sorted is None:
            assert self._pending is not None
            self._sorted = self._pending.sorted_rows()
            self._pending = None
        return self._sorted

    @property
    def claim_index(self) -> np.ndarray:
        return self._rows()[0]

    @property
    def rule(self) -> np.ndarray:
        return self._rows()[1]

    @property
    def line_number(self) -> np.ndarray:
        return self._rows()[2]

    @property
    def evidence_block(self) -> np.ndarray:
        return self._rows()[3]

    @property
    def evidence_row(self) -> np.ndarray:
        return self._rows()[4]

    def __repr__(self) -> str:
        return f"FiredRules(n_claims={self.n_claims}, fired={len(self)})"

    def __len__(self) -> int:
        if self._pending is not None:
            return self._pending.n_rows
        return int(self._rows()[0].shape[0])

    @property
    def rule_ids(self) -> np.ndarray:
        return np.asarray(RULE_IDS, dtype=object)[self.rule]

    @property
    def offsets(self) -> np.ndarray:
        if self._offsets is None:
            counts = np.bincount(self.claim_index, minlength=self.n_claims)
            self._offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return self._offsets

    def evidence(self, row: int) -> dict[str, Any]:
        return self.blocks[int(self.evidence_block[row])].row(int(self.evidence_row[row]))

    def _results(self, start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        rules = self.rule[start:stop].tolist()
        lines = self.line_number[start:stop].tolist()
        blocks = self.evidence_block[start:stop].tolist()
        rows = self.evidence_row[start:stop].tolist()
        for code, line, b, r in zip(rules, lines, blocks, rows, strict=True):
            out.append(self._result(code, line, self.blocks[b].row(r)))
        return out

    def for_claim(self, i: int) -> list[dict[str, Any]]:
        """CONTRACT §3 objects for claim ``i`` (without ``risk_if_fixed``, which needs a model)."""
        return self._results(int(self.offsets[i]), int(self.offsets[i + 1]))

    def results(self) -> list[list[dict[str, Any]]]:
        offsets = self.offsets.tolist()
        flat = self._results(0, len(self))
        return [flat[offsets[i] : offsets[i + 1]] for i in range(self.n_claims)]

    def results_json(self, memo: dict[Any, bytes] | None = None) -> list[bytes]:
        """Per claim, ``orjson.dumps(self.for_claim(i))`` without building the dicts.

        A batch repeats the same (rule, line, evidence) many times, so each distinct one is
        serialised once and reused; ``memo`` may be shared across calls with the same catalog."""
        fragments, bounds = self.results_json_fragments(memo)
        offsets = bounds.tolist()
        return [b"[" + b",".join(fragments[offsets[i] : offsets[i + 1]]) + b"]" for i in range(self.n_claims)]

    def results_json_fragments(self, memo: dict[Any, bytes] | None = None) -> tuple[list[bytes], np.ndarray]:
        """(JSON of each fired row's result object in claim order, per-claim offsets into them):
        claim ``i``'s ``results_json`` is ``b"[" + b",".join(fragments[o[i]:o[i + 1]]) + b"]"``.
        For callers that assemble the output of many claims at once (``claimrisk check`` joins
        them in Arrow instead of building a bytes object per claim)."""
        import orjson

        memo = memo if memo is not None else {}
        rules = self.rule.tolist()
        lines = self.line_number.tolist()
        blocks = self.evidence_block.tolist()
        rows = self.evidence_row.tolist()
        block_objects = self.blocks
        fragments: list[bytes] = []
        append = fragments.append
        for code, line, b, r in zip(rules, lines, blocks, rows, strict=True):
            block = block_objects[b]
            key = (code, line, block.keys, block.row_key(r))
            found = memo.get(key)
            if found is None:
                if len(memo) >= _JSON_MEMO_MAX:
                    memo.clear()
                found = memo[key] = orjson.dumps(self._result(code, line, block.row(r)))
            append(found)
        return fragments, self.offsets

    @staticmethod
    def _result(code: int, line: int, evidence: dict[str, Any]) -> dict[str, Any]:
        spec = _SPECS_BY_CODE[code]
        message, fix = spec.texts(evidence, claim_level=line < 0)
        return {
            "id": spec.id,
            "line_number": None if line < 0 else line,
            "severity": spec.severity,
            "message": message,
            "evidence": evidence,
            "carc": spec.carc,
            "rarc": list(spec.rarc),
            "fix": fix,
        }

    def rule_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(line_counts, claim_flags), both (n_claims, n_rules): lines each rule fired on, and
        whether it fired at claim level. Counted rule by rule, so the row order is never needed."""
        on_lines, at_claim = self.rule_counts_by_rule()
        return on_lines.T, at_claim.T

    def rule_counts_by_rule(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`rule_counts` as (n_rules, n_claims) C-order arrays (one contiguous row per rule)."""
        n_rules = len(RULE_IDS)
        on_lines = np.zeros((n_rules, self.n_claims), dtype=np.int64)
        at_claim = np.zeros((n_rules, self.n_claims), dtype=bool)
        if self._pending is not None and self.n_claims == 1:  # the API's one claim: plain counting
            for claims, code, line_level in zip(
                self._pending.claims, self._pending.rules, self._pending.line_level, strict=True
            ):
                if line_level:
                    on_lines[code, 0] += claims.shape[0]
                else:
                    at_claim[code, 0] = True
        elif self._pending is not None:
            parts = zip(self._pending.claims, self._pending.rules, self._pending.line_level, strict=True)
            for claims, code, line_level in parts:
                if line_level:
                    on_lines[code] += np.bincount(claims, minlength=self.n_claims)
                else:
                    at_claim[code, claims] = True
        else:
            ci, rule, line_number = self._rows()[:3]
            on_line = line_number >= 0
            flat = rule[on_line] * self.n_claims + ci[on_line]
            on_lines = np.bincount(flat, minlength=n_rules * self.n_claims).reshape(n_rules, self.n_claims)
            at_claim[rule[~on_line], ci[~on_line]] = True
        return on_lines, at_claim

    def flag_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many times each rule fired on each claim (lines, or 1 at claim level)."""
        on_lines, at_claim = self.rule_counts()
        return on_lines + at_claim

    def line_counts(self) -> np.ndarray:
        """(n_claims, n_rules) int64: how many lines each rule fired on (claim-level rows not counted)."""
        return self.rule_counts()[0]


_SPECS_BY_CODE = [RULES[rule_id] for rule_id in RULE_IDS]
_JSON_MEMO_MAX = 200_000


class _Collector:
    """Accumulates fired rows rule by rule; evidence stays in column blocks of the fired subset.

    Each ``add`` keeps its arrays as they are (one block per call, rows sorted by claim and line
    within it); the merge into one claim-ordered table is deferred to :meth:`sorted_rows`."""

    def __init__(self) -> None:
        self.claims: list[np.ndarray] = []
        self.rules: list[int] = []
        self.lines: list[np.ndarray | None] = []  # None: claim level (-1 on every row)
        self.line_level: list[bool] = []
        self.blocks: list[EvidenceBlock] = []
        self.n_rows = 0

    def add(self, rule_id: str, claim_index: np.ndarray, line_number: np.ndarray | None, evidence: dict[str, Any]) -> None:
        """``evidence``: key -> per-fired-row list (or a scalar shared by all rows); ``line_number``
        None reports at claim level."""
        n = int(claim_index.shape[0])
        if n == 0:
            return
        self.claims.append(claim_index)
        self.rules.append(RULE_CODE[rule_id])
        self.lines.append(line_number)
        self.line_level.append(line_number is not None)
        self.blocks.append(EvidenceBlock(tuple(evidence), tuple(evidence.values())))
        self.n_rows += n

    def sorted_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        sizes = [c.shape[0] for c in self.claims]
        if len(sizes) == 1:
            n = sizes[0]
            claim_index = self.claims[0].astype(np.int64, copy=False)
            lines = self.lines[0]
            line_number = np.full(n, -1, dtype=np.int64) if lines is None else lines.astype(np.int64, copy=False)
            return (
                claim_index, np.full(n, self.rules[0], dtype=np.int64), line_number,
                np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64),
            )
        counts = np.asarray(sizes, dtype=np.int64)
        codes = np.asarray(self.rules, dtype=np.int64)
        claim_index = np.concatenate(self.claims).astype(np.int64, copy=False)
        line_number = np.concatenate(
            [np.full(k, -1, dtype=np.int64) if ln is None else ln for ln, k in zip(self.lines, sizes, strict=True)]
        ).astype(np.int64, copy=False)
        block = np.repeat(np.arange(len(sizes), dtype=np.int64), counts)
        # keys are unique: (claim, line, rule) is reported once
        key = (claim_index * (_LINE_KEY + 1) + (line_number + 1)) * len(RULE_IDS) + np.repeat(_ALPHA_RANK[codes], counts)
        order = np.argsort(key)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sorted_block = block[order]
        return (
            claim_index[order], codes[sorted_block], line_number[order], sorted_block, order - starts[sorted_block],
        )

    def finish(self, n_claims: int, claim_ids: np.ndarray, facts: LineFacts) -> FiredRules:
        return FiredRules._from_collector(n_claims, claim_ids, self, facts)


_UNIT_PROBLEMS = ("missing", "not accepted by this payer", "not one of F2, GR, ME, ML, UN")
_DESCRIPTION_GAPS = ("a drug name and a strength or dose", "a drug name", "a strength or dose", "nothing")


class _Groups:
    """Rows grouped by a sorted claim index; ``values(key, claim)`` lists one claim's values on demand."""

    def __init__(self, sorted_claims: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.claims = sorted_claims
        self.columns = columns

    def values(self, key: str, claim: int) -> list[Any]:
        lo, hi = np.searchsorted(self.claims, [claim, claim + 1])
        return self.columns[key][lo:hi].tolist()


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN -> None (JSON has no NaN)


def _iso(values: np.ndarray) -> list[str | None]:
    text = np.datetime_as_string(values, unit="D")
    return [None if t == "NaT" else t for t in text.tolist()]


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _per_claim(
    values: np.ndarray, claim_index: np.ndarray, n_claims: int, fill: Any, first: np.ndarray | None = None
) -> np.ndarray:
    """A claim field repeated on its lines -> one value per claim (claims without lines get ``fill``);
    a take at each claim's first line when ``first`` (:func:`_arrays.first_rows`) is known."""
    if first is not None:
        return values[first]
    out = np.full(n_claims, fill, dtype=values.dtype)
    out[claim_index] = values
    return out


_NO_DAY = A.constant(np.iinfo(np.int64).max, np.int64)  # no service date yet while taking a claim's earliest one
_EPS0 = A.constant(_EPS, np.float64)
_LINE_KEY0 = A.constant(_LINE_KEY, np.int64)
_CHARGE_LIMIT = A.constant(CHARGE_TOLERANCE + _EPS, np.float64)
_INT8_0, _INT8_1, _INT8_2 = (A.constant(v, np.int8) for v in (0, 1, 2))  # verdicts and ICD-10 statuses are int8

_CODE_KINDS: weakref.WeakKeyDictionary[Any, dict[str, tuple[bool, bool]]] = weakref.WeakKeyDictionary()


def _code_kinds(reference: ReferenceData, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct normalised code: (listed as a drug code by CMS, an administration code),
    remembered per reference data."""
    memo = _CODE_KINDS.get(reference)
    if memo is None:
        memo = _CODE_KINDS[reference] = {}
    if len(memo) > _MEMO_MAX:
        memo.clear()
    drug_hcpcs = reference.drug_hcpcs
    kinds = [memo.get(c) or memo.setdefault(c, (c in drug_hcpcs, is_admin_code(c))) for c in codes]
    table = np.array(kinds, dtype=bool).reshape(len(codes), 2)
    return table[:, 0], table[:, 1]


_DX_CACHE: dict[str, int] = {}
_DX_CACHE_MAX = 200_000


def _diagnosis_status(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(ICD-10-CM status, index into the distinct codes, the distinct codes) per code; statuses are
    memoised: the same few thousand codes recur on every claim."""
    codes_idx, uniques = A.factorize(codes)
    missing = [u for u in uniques if u not in _DX_CACHE]
    if missing:
        arr = np.empty(len(missing), dtype=object)
        arr[:] = missing
        found = diagnosis_status(arr)
        if len(_DX_CACHE) + len(missing) > _DX_CACHE_MAX:
            _DX_CACHE.clear()
        _DX_CACHE.update(zip(missing, found.tolist(), strict=True))
    table = np.array([_DX_CACHE[u] for u in uniques], dtype=np.int8).reshape(len(uniques))
    return table[codes_idx], codes_idx, uniques


_NDC_CACHE: dict[Any, Any] = {}
_MEMO_MAX = 200_000


def _ndc11(ndc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(present, 11-digit NDC or None, normalised) per row, from one pass over the distinct raw
    values; the normalisation is memoised across calls (cheap on one claim, one pass on a batch)."""
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
    present = np.array([u is not None and bool(str(u).strip()) for u in uniques], dtype=bool)
    return present[codes], table[codes], valid[codes]


_DESCRIPTION_CACHE: dict[tuple[Any, Any], int] = {}


def _description_verdict(description: Any, note: Any) -> int:
    """-1 when description and note are both blank, else has_drug_name * 2 + has_strength; memoised."""
    key = (description, note)
    found = _DESCRIPTION_CACHE.get(key)
    if found is None:
        if _blank(description) and _blank(note):
            found = -1
        else:
            has_name, has_strength = description_gaps(description, note)
            found = int(has_name) * 2 + int(has_strength)
        if len(_DESCRIPTION_CACHE) >= _MEMO_MAX:
            _DESCRIPTION_CACHE.clear()
        _DESCRIPTION_CACHE[key] = found
    return found


def _blank(value: Any) -> bool:
    return value is None or not str(value).strip()


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
        self.packages: dict[tuple[int, str, str], tuple[float, float]] = {}

    def quarter_index(self, dates: np.ndarray) -> np.ndarray:
        if dates.shape[0] > A.SMALL:
            return self.reference.quarter_index(dates)
        days = dates.astype(np.int64).tolist()
        missing = [d for d in dict.fromkeys(days) if d not in self.quarters]
        if missing:
            found = self.reference.quarter_index(np.asarray(missing, dtype=np.int64).astype("datetime64[D]"))
            self._bounded(self.quarters, len(missing)).update(zip(missing, found.tolist(), strict=True))
        quarters = self.quarters
        return np.array([quarters[d] for d in days], dtype=np.int64)

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
        keys = self._fill_by_line(self.units, quarter_idx, ndc11, hcpcs, lambda *a: self.reference.bill_units(*a).tolist())
        return np.fromiter((self.units[k] for k in keys), dtype=np.float64, count=len(keys))

    def bill_units_and_package_size(
        self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if quarter_idx.shape[0] > A.SMALL:
            return self.reference.bill_units_and_package_size(quarter_idx, ndc11, hcpcs)

        def fetch(*args: np.ndarray) -> list[tuple[float, float]]:
            units, package = self.reference.bill_units_and_package_size(*args)
            return list(zip(units.tolist(), package.tolist(), strict=True))

        keys = self._fill_by_line(self.packages, quarter_idx, ndc11, hcpcs, fetch)
        pairs = [self.packages[k] for k in keys]
        return (
            np.fromiter((p[0] for p in pairs), dtype=np.float64, count=len(keys)),
            np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(keys)),
        )

    def _fill_by_line(
        self, memo: dict[Any, Any], quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray,
        fetch: Callable[[np.ndarray, np.ndarray, np.ndarray], list[Any]],
    ) -> list[tuple[int, str, str]]:
        """(quarter, NDC, HCPCS) keys of the rows; the ones ``memo`` lacks are fetched in one call."""
        keys = list(zip(quarter_idx.tolist(), ndc11.tolist(), hcpcs.tolist(), strict=True))
        missing = [k for k in dict.fromkeys(keys) if k not in memo]
        if missing:
            q = np.fromiter((k[0] for k in missing), dtype=np.int64, count=len(missing))
            n = np.empty(len(missing), dtype=object)
            n[:] = [k[1] for k in missing]
            h = np.empty(len(missing), dtype=object)
            h[:] = [k[2] for k in missing]
            self._bounded(memo, len(missing)).update(zip(missing, fetch(q, n, h), strict=True))
        return keys

    @staticmethod
    def _bounded(memo: dict[Any, Any], adding: int) -> dict[Any, Any]:
        if len(memo) + adding > _MEMO_MAX:
            memo.clear()
        return memo


_LOOKUPS: weakref.WeakKeyDictionary[Any, _ReferenceLookups] = weakref.WeakKeyDictionary()
_NO_ROWS = np.zeros(0, dtype=np.int64)


def _lookups(reference: ReferenceData) -> _ReferenceLookups:
    found = _LOOKUPS.get(reference)
    if found is None:
        found = _LOOKUPS[reference] = _ReferenceLookups(reference)
    return found


def _isin_small(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.isin`` without its sort for the tiny arrays of one claim."""
    if values.shape[0] * keys.shape[0] <= 4096:  # logical_or.reduce: any() without its Python wrapper
        return np.logical_or.reduce(values[:, None] == keys[None, :], axis=1)
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
    first = A.first_rows(ci, n_claims)

    # --- who pays, and what the codes are -------------------------------------------------------
    # claim fields repeat on every line: decide them once per claim, then spread with a take
    claim_policy = policies.resolve(
        _per_claim(L["payer_id"], ci, n_claims, None, first), _per_claim(L["payer_type"], ci, n_claims, None, first)
    )
    policy = claim_policy[ci]
    code_idx, code_uniques = A.factorize(L["procedure_code"])
    code_norm = [_upper(c) for c in code_uniques]
    code_table = np.empty(len(code_norm), dtype=object)
    code_table[:] = code_norm
    code = code_table[code_idx]
    noc_sets = policies.column("noc_codes")
    is_noc = policies.membership("noc_codes", code_norm)[policy, code_idx]
    code_kinds = _code_kinds(reference, code_norm)  # (in the CMS drug list, administration code)
    in_cms = code_kinds[0][code_idx]
    is_admin = code_kinds[1][code_idx]
    has_drug = L["has_drug"]
    is_drug = is_noc | in_cms | has_drug
    is_specific = in_cms & ~is_noc

    claim_type = _per_claim(L["claim_type"], ci, n_claims, None, first)
    professional = A.map_unique(claim_type, lambda t: t == "professional", np.bool_)
    professional_line = professional[ci]

    # --- NDC --------------------------------------------------------------------------------------
    ndc_raw = L["ndc"]
    ndc_present, ndc11, normalized = _ndc11(ndc_raw)
    ndc_valid = ndc_present & normalized
    rows = A.rows_where(is_drug & ~ndc_present)
    if rows.size:  # evidence is gathered only for the rules that fired (most do not)
        out.add("NDC_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows]})
    rows = A.rows_where(ndc_present & ~ndc_valid)
    if rows.size:
        out.add(
            "NDC_INVALID", ci[rows], line_no[rows],
            {"ndc": ndc_raw[rows], "procedure_code": code[rows]},
        )

    quantity = L["drug_quantity"]
    rows = A.rows_where(ndc_present & ~(quantity > A.F0))
    if rows.size:
        out.add(
            "NDC_QUANTITY_INVALID", ci[rows], line_no[rows],
            {"ndc": ndc_raw[rows], "drug_quantity": (quantity[rows])},
        )

    unit_idx, unit_uniques = A.factorize(L["drug_unit"])
    unit_norm = [_upper(u) for u in unit_uniques]
    unit_table = np.empty(len(unit_norm), dtype=object)
    unit_table[:] = unit_norm
    drug_unit = unit_table[unit_idx]
    unit_known = np.array([u in VALID_NDC_UNITS for u in unit_norm], dtype=bool)[unit_idx]
    unit_banned = policies.membership("banned_ndc_units", unit_norm)[policy, unit_idx]
    rows = A.rows_where(ndc_present & (~unit_known | unit_banned))
    if rows.size:
        problem = np.where(np.equal(drug_unit[rows], ""), 0, np.where(unit_known[rows], 1, 2))
        out.add(
            "NDC_UNIT_INVALID", ci[rows], line_no[rows],
            {"drug_unit": L["drug_unit"][rows], "problem": Lazy(problem, _UNIT_PROBLEMS.__getitem__)},
        )

    # --- units ------------------------------------------------------------------------------------
    units = L["units"]
    units_invalid = ~(units > A.F0)
    rows = A.rows_where(units_invalid)
    if rows.size:
        out.add("UNITS_INVALID", ci[rows], line_no[rows], {"units": (units[rows])})
    noc_units_one = policies.column("noc_units_one")[policy]
    rows = A.rows_where(is_noc & noc_units_one & ~(np.abs(units - A.F1) <= _EPS0))
    if rows.size:
        out.add(
            "NOC_UNITS_NOT_ONE", ci[rows], line_no[rows],
            {"procedure_code": code[rows], "units": (units[rows])},
        )

    # --- crosswalk: the quarter in force on the service date ------------------------------------
    service_date = L["service_date"]
    submission = L["submission_date"]
    service_eff = np.where(np.isnat(service_date), submission, service_date)
    xw_rows = A.rows_where(ndc_valid & (is_noc | is_specific) & ~np.isnat(service_eff))
    quarter_idx: np.ndarray = _NO_ROWS
    listed: np.ndarray = _NO_ROWS
    if xw_rows.size:
        lookups = _lookups(reference)
        quarter_idx = lookups.quarter_index(service_eff[xw_rows])
        listed = lookups.codes_for_ndc(quarter_idx, ndc11[xw_rows])
        quarters = reference.quarters
        # work per distinct (listed codes, policy, billed code), not per line
        noc_list = noc_sets.tolist()
        listed_idx, listed_uniques = A.factorize(listed)
        n_pol, n_code = len(noc_list), len(code_norm)
        combo_idx, combo_uniques = A.factorize((listed_idx * n_pol + policy[xw_rows]) * n_code + code_idx[xw_rows])
        combos = [divmod(int(k), n_code) for k in combo_uniques]
        combo_specific = np.empty(len(combos), dtype=object)
        combo_specific[:] = [
            tuple(c for c in listed_uniques[lp // n_pol] if c not in noc_list[lp % n_pol]) for lp, _ in combos
        ]
        combo_mismatch = np.array(
            [bool(listed_uniques[lp // n_pol]) and code_norm[k] not in listed_uniques[lp // n_pol] for lp, k in combos],
            dtype=bool,
        )
        specific_codes = combo_specific[combo_idx]
        has_specific = np.array([bool(t) for t in combo_specific.tolist()], dtype=bool)
        hit_specific = has_specific[combo_idx] & is_noc[xw_rows]
        hit_mismatch = combo_mismatch[combo_idx] & is_specific[xw_rows]
        sel = A.rows_where(hit_specific)
        if sel.size:
            rows = xw_rows[sel]
            out.add(
                "SPECIFIC_CODE_EXISTS", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows],
                    "ndc": ndc11[rows],
                    "specific_codes": Lazy(specific_codes[sel], list),
                    "quarter": Lazy(quarter_idx[sel], quarters.__getitem__),
                },
            )
        sel = A.rows_where(hit_mismatch)
        if sel.size:
            rows = xw_rows[sel]
            out.add(
                "NDC_HCPCS_MISMATCH", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows],
                    "ndc": ndc11[rows],
                    "listed_codes": Lazy(listed[sel], list),
                    "quarter": Lazy(quarter_idx[sel], quarters.__getitem__),
                },
            )
        # UNITS_MISMATCH: the NDC is listed under this very code, counted in whole items (UN)
        un = A.rows_where(
            is_specific[xw_rows] & (drug_unit[xw_rows] == "UN") & (quantity[xw_rows] > A.F0) & np.isfinite(units[xw_rows])
        )
        if un.size:
            rows = xw_rows[un]
            bill_units = lookups.bill_units(quarter_idx[un], ndc11[rows], code[rows])
            expected = quantity[rows] * bill_units
            tolerance = np.maximum(1.0, UNITS_TOLERANCE_SHARE * expected)
            fire = np.isfinite(expected) & (np.abs(units[rows] - expected) > tolerance + _EPS)
            sel = A.rows_where(fire)
            if sel.size:
                rows = rows[sel]
                out.add(
                    "UNITS_MISMATCH", ci[rows], line_no[rows],
                    {
                        "procedure_code": code[rows],
                        "ndc": ndc11[rows],
                        "drug_quantity": (quantity[rows]),
                        "drug_unit": "UN",
                        "bill_units": (bill_units[sel]),
                        "expected_units": (np.round(expected[sel], 4)),
                        "units": (units[rows]),
                        "tolerance": (np.round(tolerance[sel], 4)),
                        "quarter": Lazy(quarter_idx[un][sel], quarters.__getitem__),
                    },
                )

    # --- descriptions of NOC lines ----------------------------------------------------------------
    noc_rows = A.rows_where(is_noc)
    if noc_rows.size:
        # each distinct (description, note) pair is judged once, and remembered across calls
        desc_idx, desc_uniques = A.factorize(L["description"][noc_rows])
        note_idx, note_uniques = A.factorize(L["line_note"][noc_rows])
        pair_key = desc_idx * max(len(note_uniques), 1) + note_idx
        pair_idx, pair_keys = A.factorize(pair_key)
        width = max(len(note_uniques), 1)
        pairs = [(desc_uniques[k // width], note_uniques[k % width]) for k in pair_keys]
        judged = np.array([_description_verdict(d, n) for d, n in pairs], dtype=np.int8).reshape(len(pairs))
        verdict = judged[pair_idx]  # -1 blank, else has_name * 2 + has_strength
        blank = verdict < _INT8_0
        rows = noc_rows[blank]
        if rows.size:
            out.add("DESCRIPTION_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows]})
        present = A.rows_where(~blank)
        if present.size:
            name_ok = verdict[present] >= _INT8_2
            strength_ok = (verdict[present] & _INT8_1).astype(bool)
            sel = A.rows_where(~(name_ok & strength_ok))
            if sel.size:
                rows = noc_rows[present[sel]]
                missing = Lazy(name_ok[sel] * 2 + strength_ok[sel], _DESCRIPTION_GAPS.__getitem__)
                out.add(
                    "DESCRIPTION_INCOMPLETE", ci[rows], line_no[rows],
                    {
                        "procedure_code": code[rows],
                        "has_drug_name": name_ok[sel],
                        "has_strength": strength_ok[sel],
                        "missing": missing,
                    },
                )

    claim_no_pa = A.is_blank(_per_claim(L["claim_prior_authorization"], ci, n_claims, None, first))
    no_pa = claim_no_pa[ci] & A.is_blank(L["line_prior_authorization"])

    # --- attachments: invoices and supporting records ---------------------------------------------
    att = frame.attachments
    a_ci = att["claim_index"]
    a_line = att["line_number"]
    a_policy = claim_policy[a_ci]
    rt_idx, rt_uniques = A.factorize(att["report_type"])
    rt_norm = [_upper(r) for r in rt_uniques]
    types_sets = policies.column("invoice_report_types").tolist()
    rt_table = policies.membership("invoice_report_types", rt_norm)
    sent = A.map_unique(att["transmission"], lambda t: _upper(t) != NOT_SENT_TRANSMISSION, np.bool_)
    a_invoice = rt_table[a_policy, rt_idx] & sent if a_ci.size else np.zeros(0, dtype=bool)
    claim_level = a_line < A.I0
    keys: list[np.ndarray] = []  # (claim, line) keys of the lines and of line-level attachments, once

    def covered(mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Per line of ``rows``: an attachment in ``mask`` sits at its claim level or on this very line."""
        if not rows.size or not A.any_true(mask):
            return np.zeros(rows.shape[0], dtype=bool)
        if not keys:
            keys.extend((ci * _LINE_KEY0 + line_no, a_ci * _LINE_KEY0 + a_line, ~claim_level))
        line_key, attachment_key, on_line = keys
        at_claim = A.group_any(a_ci, mask & claim_level, n_claims)[ci[rows]]
        return at_claim | _isin_small(line_key[rows], attachment_key[mask & on_line])

    if noc_rows.size:
        # payer requirements on unclassified codes: decided on the NOC lines only
        charge = L["charge"]
        noc_policy = policy[noc_rows]
        inv_required = policies.column("invoice_required")[noc_policy]
        min_charge_by_policy = policies.column("invoice_min_charge")
        candidates = noc_rows[inv_required & ~(charge[noc_rows] < min_charge_by_policy[noc_policy])]
        rows = candidates[~covered(a_invoice, candidates)]
        if rows.size:
            sorted_types = [sorted(t) for t in types_sets]
            out.add(
                "INVOICE_MISSING", ci[rows], line_no[rows],
                {
                    "procedure_code": code[rows],
                    "charge": (charge[rows]),
                    "invoice_report_types": Lazy(policy[rows], sorted_types.__getitem__),
                    "invoice_min_charge": (min_charge_by_policy[policy[rows]]),
                },
            )
        docs_required = policies.column("documentation_required")[noc_policy]
        candidates = noc_rows[docs_required]
        rows = candidates[~covered(sent, candidates)]
        if rows.size:
            n_att = np.bincount(a_ci, minlength=n_claims)[ci[rows]]
            out.add(
                "DOCUMENTATION_MISSING", ci[rows], line_no[rows],
                {"procedure_code": code[rows], "attachments_not_sent": n_att},
            )
        pa_required = policies.column("prior_auth_required")[noc_policy]
        rows = noc_rows[pa_required & no_pa[noc_rows]]
        if rows.size:
            out.add("PRIOR_AUTH_MISSING", ci[rows], line_no[rows], {"procedure_code": code[rows]})

    # --- diagnoses ------------------------------------------------------------------------------------
    dx = frame.diagnoses
    d_ci = dx["claim_index"]
    n_dx = np.bincount(d_ci, minlength=n_claims)
    claims_with_lines = np.bincount(ci, minlength=n_claims) > A.I0
    claims = A.rows_where((n_dx == A.I0) & claims_with_lines)
    out.add("DIAGNOSIS_MISSING", claims, None, {"diagnosis_count": 0})
    dx_status, dx_index, dx_uniques = _diagnosis_status(dx["code"])
    bad = A.rows_where(dx_status != _INT8_0)
    if bad.size:
        bad = bad[np.argsort(d_ci[bad], kind="stable")]
        bad_claims = d_ci[bad]
        claims = np.unique(bad_claims)
        reasons = np.where(dx_status[bad] == 1, _NOT_BILLABLE, _NOT_VALID).astype(object)
        groups = _Groups(bad_claims, {"codes": dx["code"][bad], "positions": dx["position"][bad], "reasons": reasons})
        out.add(
            "DIAGNOSIS_INVALID", claims, None,
            {key: Lazy(claims, functools.partial(groups.values, key)) for key in ("codes", "positions", "reasons")},
        )
    line_n_dx = n_dx[ci]
    p_count, p_min, p_max = L["pointer_count"], L["pointer_min"], L["pointer_max"]
    # 837I SV2 has no diagnosis-pointer element, so an institutional line without pointers is
    # normal; a pointer it does carry must still point at a diagnosis on the claim.
    no_pointer = p_count == A.I0
    out_of_range = ~no_pointer & ((p_min < A.I1) | (p_max > line_n_dx))
    rows = A.rows_where((no_pointer & professional_line) | out_of_range)
    if rows.size:
        out.add(
            "DIAGNOSIS_POINTER_INVALID", ci[rows], line_no[rows],
            {
                "pointer_count": p_count[rows],
                "pointer_min": p_min[rows],
                "pointer_max": p_max[rows],
                "diagnosis_count": line_n_dx[rows],
            },
        )

    # --- claim-level billing shape ------------------------------------------------------------------
    has_noc = A.group_any(ci, is_noc, n_claims)
    has_admin = A.group_any(ci, is_admin, n_claims)
    claims = A.rows_where(professional & has_noc & ~has_admin)
    if claims.size:
        noc_claims = ci[noc_rows]
        noc_codes = code[noc_rows]
        if noc_claims.size > 1 and np.any(noc_claims[1:] < noc_claims[:-1]):
            order = np.argsort(noc_claims, kind="stable")
            noc_claims, noc_codes = noc_claims[order], noc_codes[order]
        noc_by_claim = _Groups(noc_claims, {"noc_codes": noc_codes})
        out.add(
            "ADMIN_CODE_MISSING", claims, None,
            {"noc_codes": Lazy(claims, lambda c: sorted(set(noc_by_claim.values("noc_codes", c))))},
        )

    mod_idx, mod_uniques = A.factorize(L["modifiers"])
    mod_sets = [frozenset(m.split("|")) if isinstance(m, str) and m else frozenset() for m in mod_uniques]
    jw = np.array(["JW" in s for s in mod_sets], dtype=bool)[mod_idx]
    jz = np.array(["JZ" in s for s in mod_sets], dtype=bool)[mod_idx]
    has_waste = np.array([bool(s & WASTE_MODIFIERS) for s in mod_sets], dtype=bool)[mod_idx]
    waste_required = policies.column("waste_modifier_required")[policy]
    rows = A.rows_where(is_drug & waste_required & ~has_waste)
    if rows.size:
        out.add(
            "WASTE_MODIFIER_MISSING", ci[rows], line_no[rows],
            {"procedure_code": code[rows], "modifiers": Lazy(L["modifiers"][rows], _split_modifiers)},
        )

    rows = A.rows_where((code == OPPS_ONLY_NOC_CODE) & professional_line)
    if rows.size:
        out.add(
            "NOC_CODE_SETTING", ci[rows], line_no[rows],
            {"procedure_code": code[rows], "claim_type": "professional"},
        )

    # --- timely filing ------------------------------------------------------------------------------------
    service_days = service_eff.astype("datetime64[D]", copy=False).astype(np.int64)
    valid_day = ~np.isnat(service_eff)
    if first is not None:  # every claim has lines, grouped: one reduction per claim's run of rows
        earliest = np.minimum.reduceat(np.where(valid_day, service_days, _NO_DAY), first)
    else:
        earliest = np.full(n_claims, _NO_DAY, dtype=np.int64)
        np.minimum.at(earliest, ci[valid_day], service_days[valid_day])
    claim_submission = _per_claim(submission, ci, n_claims, _NAT, first)
    has_dates = (earliest != _NO_DAY) & ~np.isnat(claim_submission)
    days = np.where(has_dates, claim_submission.astype(np.int64) - np.where(has_dates, earliest, A.I0), A.I0)
    limit = policies.column("filing_limit_days")[claim_policy]
    claims = A.rows_where(has_dates & (days > limit))
    if claims.size:
        out.add(
            "TIMELY_FILING", claims, None,
            {
                "earliest_service_date": (earliest[claims].astype("datetime64[D]")),
                "submission_date": (claim_submission[claims]),
                "days_since_service": days[claims],
                "filing_limit_days": limit[claims],
            },
        )

    # --- charges --------------------------------------------------------------------------------------------
    charge = L["charge"]
    rows = A.rows_where(~(charge > A.F0))
    if rows.size:
        out.add("CHARGE_INVALID", ci[rows], line_no[rows], {"charge": (charge[rows])})
    line_sum = np.bincount(ci, weights=np.where(np.isnan(charge), A.F0, charge), minlength=n_claims)
    total = _per_claim(L["total_charge"], ci, n_claims, np.nan, first)
    difference = total - line_sum
    claims = A.rows_where(claims_with_lines & ~(np.abs(difference) <= _CHARGE_LIMIT))
    if claims.size:
        out.add(
            "CHARGE_INVALID", claims, None,
            {
                "total_charge": (total[claims]),
                "line_charge_sum": (np.round(line_sum[claims], 2)),
                "difference": (np.round(difference[claims], 2)),
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
        prior_authorization=~no_pa,
        crosswalk_rows=xw_rows,
        crosswalk_quarter=quarter_idx,
        crosswalk_listed=listed if xw_rows.size else np.empty(0, dtype=object),
        claim_first_row=first,
        diagnosis_index=dx_index,
        diagnosis_uniques=dx_uniques,
    )
    return out.finish(n_claims, frame.claim_ids, facts)
