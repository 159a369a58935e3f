"""Scoring for the worklist: the scorer is injected, and its arrays become stored score rows.

The worklist sits below ``serving`` and must not import it, yet it must score exactly as the API
does (the skew test's promise). So the services take any object shaped like the scorer
(``serving.scorer.Scorer`` is one): ``score`` gives CONTRACT §4 answers (what-if shows one), and
``score_arrays`` the same figures as parallel arrays, which is what the store is built from. An
import of 100,000 claims must not build 100,000 answer dicts only to copy six scalars out of each,
so every stored scalar is taken from the arrays on whole columns; only the problems list (each
fired rule with its ``risk_if_fixed``, a JSON column) is per claim, assembled from the engine's
memoised JSON fragments with the fix risk spliced in: the very bytes ``orjson.dumps`` gives for
the answer's ``rules`` (a test holds them equal).

Denial reasons (CONTRACT §7): ``top_reason`` and its probability are columns of both tables (a
queue page reads plain columns, no JSON), and ``claim_scores.reasons`` keeps every family's
probability as a JSON array in contract order (``FAMILIES``, the heads' column order). Not the API's
``reasons`` list itself: that list (families above a floor, highest first, each with its fired
rules) is a function of these probabilities and the stored fired rules, which serving rebuilds with
the very function that answers ``/v1/score``, so a claim page shows what the API would say; and
the eleven numbers are written for a whole batch from one ``orjson`` dump of the (claims, families)
array, where building the list would cost a sort and a dict per family per claim at every import
(``reasons_json`` has the measurements).
A model without reason heads stores nulls.

Derived values are computed here once: the best fix (the problem whose fix alone lowers the risk
most; ties go to the engine's first, as ``claimrisk score --fixes`` picks), and the recoverable
dollars, what fixing every problem could win back: ``(risk - risk_if_all_fixed) * total_charge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import orjson

from claims.charges import total_charges
from claims.columnar import ClaimFrame
from features.denial_reasons import FAMILIES, top_families

DECISION_REVIEW = "review"
DECISION_PASS = "pass"


class FiredProblems(Protocol):
    """The engine's fired rules (``features.rules.fired.FiredRules``) as far as the store reads them."""

    n_claims: int

    @property
    def rule(self) -> np.ndarray: ...

    @property
    def claim_index(self) -> np.ndarray: ...

    def results_json_fragments(self, memo: dict[Any, bytes] | None = None) -> tuple[list[bytes], np.ndarray]: ...


class ArrayScores(Protocol):
    """``serving.scorer.ScoreArrays``: one entry per claim, or per fired problem for ``fix_*``."""

    @property
    def risk(self) -> np.ndarray: ...

    @property
    def expected_loss(self) -> np.ndarray: ...

    @property
    def review(self) -> np.ndarray: ...

    @property
    def threshold(self) -> float: ...

    @property
    def fired(self) -> FiredProblems: ...

    @property
    def fix_claim(self) -> np.ndarray: ...

    @property
    def fix_rule(self) -> np.ndarray: ...

    @property
    def fix_risk(self) -> np.ndarray: ...

    @property
    def all_fixed_risk(self) -> np.ndarray: ...

    @property
    def fix_line(self) -> np.ndarray: ...

    @property
    def reasons(self) -> np.ndarray | None:
        """(claims, families) P(denied for each family), CONTRACT §7 order; None without heads."""
        ...


class VersionContext(Protocol):
    @property
    def rules_version(self) -> str: ...

    @property
    def reference_data_version(self) -> str: ...


class ClaimScorer(Protocol):
    """What the worklist needs of a scorer: answers (what-if) and the arrays the store is built from."""

    @property
    def model_version(self) -> str | None: ...

    @property
    def context(self) -> VersionContext: ...

    def score(self, frame: ClaimFrame) -> list[dict[str, Any]]: ...

    def score_arrays(
        self, frame: ClaimFrame, threshold: float | None, *, with_fixes: bool, with_all_fixed: bool = False
    ) -> ArrayScores: ...


@dataclass(frozen=True)
class ScoreRow:
    """One claim's score as stored (``claim_scores``) and copied onto its queue row."""

    risk: float
    decision: str
    threshold: float
    expected_loss: float
    risk_if_all_fixed: float | None
    recoverable: float | None
    best_fix: str | None
    best_fix_line: int | None
    risk_if_best_fixed: float | None
    top_reason: str | None
    top_reason_probability: float | None
    reasons: str | None  # JSON array: every family's probability, CONTRACT §7 order; None without heads
    rules_json: str
    rule_ids: list[str]
    model_version: str
    rules_version: str
    reference_data_version: str

    def queue_values(self) -> dict[str, Any]:
        """The columns of ``queue_claims`` this score sets."""
        return {name: getattr(self, name) for name in QUEUE_SCORE_COLUMNS}

    def score_values(self) -> dict[str, Any]:
        """The columns of ``claim_scores`` (without the revision it belongs to)."""
        values = {name: getattr(self, name) for name in SCORE_COLUMNS if name != "rules"}
        values["rules"] = self.rules_json
        return values


# the score columns copied onto ``queue_claims``, and the columns of ``claim_scores`` (less the
# revision and the time), in ``ScoreBatch.columns``' names
QUEUE_SCORE_COLUMNS = (
    "risk", "decision", "expected_loss", "risk_if_all_fixed", "recoverable", "best_fix", "best_fix_line",
    "risk_if_best_fixed", "model_version", "top_reason", "top_reason_probability",
)
SCORE_COLUMNS = (
    "model_version", "rules_version", "reference_data_version", "risk", "decision", "threshold", "expected_loss",
    "risk_if_all_fixed", "recoverable", "best_fix", "best_fix_line", "risk_if_best_fixed", "top_reason",
    "top_reason_probability", "reasons", "rules",
)


@dataclass(frozen=True)
class ScoreBatch:
    """The scores of a batch of claims as columns (Python lists, claim order, ready to be bound),
    and the distinct fired rule ids as pairs (claim position in the batch, rule id), engine order."""

    columns: dict[str, list[Any]]
    rule_claim: np.ndarray
    rule_id: np.ndarray

    def __len__(self) -> int:
        return len(self.columns["risk"])

    @property
    def versions(self) -> dict[str, str]:
        """The model, rules and reference-data versions that scored the batch (empty when empty)."""
        if not len(self):
            return {}
        return {name: self.columns[name][0] for name in ("model_version", "rules_version", "reference_data_version")}

    def take(self, positions: Sequence[int]) -> ScoreBatch:
        """The scores of the claims at ``positions`` (in that order)."""
        picked = np.asarray(positions, dtype=np.int64)
        columns = {name: [values[i] for i in picked.tolist()] for name, values in self.columns.items()}
        new_position = np.full(len(self), -1, dtype=np.int64)
        new_position[picked] = np.arange(picked.shape[0])
        kept = new_position[self.rule_claim] >= 0
        claim, rule_id = new_position[self.rule_claim[kept]], self.rule_id[kept]
        order = np.argsort(claim, kind="stable")  # claim order again, each claim's rules as they were
        return ScoreBatch(columns, claim[order], rule_id[order])

    def rows(self) -> list[ScoreRow]:
        """One ``ScoreRow`` per claim (the single-claim services: edit, what-if)."""
        per_claim: list[list[str]] = [[] for _ in range(len(self))]
        for claim, rule_id in zip(self.rule_claim.tolist(), self.rule_id.tolist(), strict=True):
            per_claim[claim].append(rule_id)
        names = [f.name for f in fields(ScoreRow) if f.name not in ("rules_json", "rule_ids")]
        return [
            ScoreRow(**dict(zip(names, values, strict=True)), rules_json=rules, rule_ids=ids)
            for *values, rules, ids in zip(*(self.columns[n] for n in names), self.columns["rules"], per_claim, strict=True)
        ]

    @classmethod
    def of_rows(cls, rows: Sequence[ScoreRow]) -> ScoreBatch:
        names = [name for name in SCORE_COLUMNS if name != "rules"]
        columns = {name: [getattr(row, name) for row in rows] for name in names}
        columns["rules"] = [row.rules_json for row in rows]
        rule_claim = [k for k, row in enumerate(rows) for _ in row.rule_ids]
        rule_id = [r for row in rows for r in row.rule_ids]
        return cls(columns, np.asarray(rule_claim, dtype=np.int64), np.asarray(rule_id, dtype=object))


def _best_fixes(arrays: ArrayScores, n: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Per claim: the problem whose fix alone leaves the lowest risk (ties: the engine's first), its
    line (None at claim level) and that risk; three Nones where no fix lowers the risk."""
    best_fix = np.full(n, None, dtype=object)
    best_line = np.full(n, None, dtype=object)
    best_risk = np.full(n, None, dtype=object)
    if arrays.fix_claim.shape[0]:
        order = np.lexsort((arrays.fix_risk, arrays.fix_claim))  # stable: ties keep engine order
        claims, first = np.unique(arrays.fix_claim[order], return_index=True)
        pick = order[first]
        lowers = arrays.fix_risk[pick] < arrays.risk[claims]
        chosen, pick = claims[lowers], pick[lowers]
        best_fix[chosen] = arrays.fix_rule[pick]
        line = arrays.fix_line[pick]
        best_line[chosen] = np.where(line >= 0, line.astype(object), None)
        best_risk[chosen] = arrays.fix_risk[pick].astype(object)
    return best_fix.tolist(), best_line.tolist(), best_risk.tolist()


def problems_json(arrays: ArrayScores, memo: dict[Any, bytes] | None = None) -> list[str]:
    """Per claim, ``orjson.dumps(answer["rules"])`` as the API answers it (each CONTRACT §3 object
    with ``risk_if_fixed`` last), from the engine's memoised fragments: no dict per problem."""
    fragments, offsets = arrays.fired.results_json_fragments(memo)
    fixed = arrays.fix_risk.tolist() if arrays.fix_claim.shape[0] == len(fragments) else None
    if fixed is None:  # no fix figures: each problem says fixing it leaves the risk (as ``answers``)
        fixed = arrays.risk[np.asarray(arrays.fired.claim_index, dtype=np.int64)].tolist()
    # every risk_if_fixed dumped at once and cut at the commas: the bytes one ``dumps`` per value gives
    values = orjson.dumps(fixed)[1:-1].split(b",") if fixed else []
    spliced = [f[:-1] + b',"risk_if_fixed":' + v + b"}" for f, v in zip(fragments, values, strict=True)]
    bounds = np.asarray(offsets, dtype=np.int64)
    # most claims of a file fire nothing: they share one "[]", and only the others are joined
    out = ["[]"] * (bounds.shape[0] - 1)
    some = np.flatnonzero(bounds[1:] > bounds[:-1])
    for claim, start, stop in zip(some.tolist(), bounds[some].tolist(), bounds[some + 1].tolist(), strict=True):
        out[claim] = (b"[" + b",".join(spliced[start:stop]) + b"]").decode()
    return out


_FAMILY_NAMES = np.asarray(FAMILIES, dtype=object)
_DECISIONS = np.asarray([DECISION_PASS, DECISION_REVIEW], dtype=object)  # indexed by the review flag


def reasons_json(probabilities: np.ndarray) -> list[str]:
    """Per claim, the JSON array of its families' probabilities in CONTRACT §7 order (the order of
    ``FAMILIES`` and of the model's head columns): one ``orjson`` dump of the whole (claims,
    families) array cut at the row boundaries, so no number is formatted and no object is built per
    claim. Measured on 10,000 claims: about 6 ms of CPU; naming every family in each row (an object
    per claim) took 45-65 ms, more than all the other stored columns together. ``orjson.loads`` gives the very
    floats back (shortest round-trip digits); ``family_probabilities`` reads one back."""
    if probabilities.ndim != 2 or probabilities.shape[1] != len(FAMILIES):
        raise ValueError(f"reason probabilities must be (claims, {len(FAMILIES)}), not {probabilities.shape}")
    if probabilities.shape[0] == 0:
        return []
    dumped = orjson.dumps(np.ascontiguousarray(probabilities, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY)
    # b"[[a,b],[c,d]]" -> "[a,b]\n[c,d]" -> rows: numbers never hold "],[" or a line break
    return dumped.replace(b"],[", b"]\n[")[1:-1].decode().splitlines()


def family_probabilities(stored: str | None) -> dict[str, float] | None:
    """A stored ``reasons`` value as {family: probability} in contract order (None stays None)."""
    if stored is None:
        return None
    values = orjson.loads(stored)
    if len(values) != len(FAMILIES):
        raise ValueError(f"a stored reasons array holds {len(values)} probabilities, not {len(FAMILIES)}")
    return dict(zip(FAMILIES, values, strict=True))


def _reason_columns(probabilities: np.ndarray | None, n: int) -> dict[str, list[Any]]:
    """``top_reason``, ``top_reason_probability`` (the shared argmax: ties to the first family, as
    the API and ``claimrisk score``) and ``reasons`` per claim; nulls without reason heads."""
    if probabilities is None or n == 0:
        return {"top_reason": [None] * n, "top_reason_probability": [None] * n, "reasons": [None] * n}
    probabilities = np.asarray(probabilities, dtype=np.float64)
    top, probability = top_families(probabilities)
    return {
        "top_reason": _FAMILY_NAMES[top].tolist(),
        "top_reason_probability": probability.tolist(),
        "reasons": reasons_json(probabilities),
    }


def _distinct_rules(arrays: ArrayScores) -> tuple[np.ndarray, np.ndarray]:
    """(claim position, rule id) of each claim's distinct fired rules, in the engine's order."""
    claim = np.asarray(arrays.fired.claim_index, dtype=np.int64)
    if claim.shape[0] == 0:
        return claim, np.empty(0, dtype=object)
    code = np.asarray(arrays.fired.rule, dtype=np.int64)
    _, first = np.unique(claim * (int(code.max()) + 1) + code, return_index=True)
    first.sort()
    return claim[first], np.asarray(arrays.fix_rule, dtype=object)[first]


def scorer_versions(scorer: ClaimScorer) -> dict[str, str]:
    """The model, rules and reference-data versions a score by ``scorer`` is stored under."""
    return {
        "model_version": scorer.model_version or "unversioned",
        "rules_version": str(scorer.context.rules_version or ""),
        "reference_data_version": str(scorer.context.reference_data_version or ""),
    }


def score_batch(scorer: ClaimScorer, frame: ClaimFrame, memo: dict[Any, bytes] | None = None) -> ScoreBatch:
    """Score a frame (one model call) and derive the stored columns on whole arrays."""
    arrays = scorer.score_arrays(frame, None, with_fixes=True, with_all_fixed=True)
    n = frame.n_claims
    charge = total_charges(frame)
    best_fix, best_line, best_risk = _best_fixes(arrays, n)
    risk = np.asarray(arrays.risk, dtype=np.float64)
    all_fixed = np.asarray(arrays.all_fixed_risk, dtype=np.float64)
    rule_claim, rule_id = _distinct_rules(arrays)
    columns: dict[str, list[Any]] = {
        **{name: [version] * n for name, version in scorer_versions(scorer).items()},
        "risk": risk.tolist(),
        "decision": _DECISIONS[np.asarray(arrays.review, dtype=np.intp)].tolist(),  # two shared strings
        "threshold": [float(arrays.threshold)] * n,
        "expected_loss": np.asarray(arrays.expected_loss, dtype=np.float64).tolist(),
        "risk_if_all_fixed": all_fixed.tolist(),
        "recoverable": ((risk - all_fixed) * charge).tolist(),
        "best_fix": best_fix,
        "best_fix_line": best_line,
        "risk_if_best_fixed": best_risk,
        **_reason_columns(arrays.reasons, n),
        "rules": problems_json(arrays, memo) if n else [],
    }
    return ScoreBatch(columns, rule_claim, rule_id)


def score_frame(scorer: ClaimScorer, frame: ClaimFrame) -> list[ScoreRow]:
    """Score a frame and derive the stored rows (one model call for the whole frame)."""
    if frame.n_claims == 0:
        return []
    return score_batch(scorer, frame).rows()
