"""Scoring shared by the API and ``claimrisk score``: pure NumPy over a ``ClaimFrame``, no FastAPI.

Keeping one code path for both is what makes the worklist and the API agree on every risk (a test
asserts it): both featurize with the model's own featurizer and call ``predict_from_features`` on
the same matrix.

``risk_if_fixed`` answers the biller's question "how much would fixing this problem help?", for
each reported problem on its own (CONTRACT §4): the claim is re-scored with the rule features as
they would read with that one problem corrected. The featurizer counts a rule as a flag
(``rule:<ID>``: any problem of that rule on the claim) and, for line rules, the number of lines it
fired on (``rule:<ID>:lines``); fixing line 1 of two NDC_MISSING lines leaves one line and the
flag set, so "fix line 1" promises what fixing line 1 delivers, not what fixing both would. Any
other column the featurizer lists for a rule (``ClaimFeaturizer.rule_columns``, e.g. the recency
column ``rule:<ID>:payer_recent_denial_rate``) is cleared with the rule's last problem.
``risk_if_all_fixed`` is the risk with every reported problem corrected. All claims' originals,
their fix variants and their all-fixed rows go through one model call, because the per-call
overhead of a scikit-learn/LightGBM predict dwarfs the per-row cost.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from claims.charges import total_charges
from claims.columnar import ClaimFrame

DECISION_REVIEW = "review"
DECISION_PASS = "pass"


@dataclass(frozen=True)
class RuleContext:
    """What the rules-only check needs: payer policies, reference data, and their versions."""

    policies: Any
    reference: Any
    rules_version: str
    reference_data_version: str


def load_rule_context() -> RuleContext:
    from features.payer_policy import PolicySet
    from features.version import rules_version
    from reference.store import load_reference

    reference = load_reference()
    return RuleContext(
        policies=PolicySet.load(),
        reference=reference,
        rules_version=rules_version(),
        reference_data_version=str(reference.version),
    )


@dataclass(frozen=True)
class ScoreArrays:
    """Scores of a frame as parallel arrays (one entry per claim) plus the fired rules.

    ``fix_claim``/``fix_rule``/``fix_line``/``fix_risk`` hold one entry per fired problem, in the
    order of ``fired`` (so of each answer's ``rules``): the claim, the rule id, the line (-1 at claim
    level) and the claim's risk with that problem alone corrected; ``all_fixed_risk`` one per claim:
    its risk with every reported problem corrected at once (the risk no billing fix can remove).
    Each is empty when it was not requested.
    """

    claim_ids: np.ndarray
    risk: np.ndarray
    expected_loss: np.ndarray
    review: np.ndarray
    threshold: float
    fired: Any
    fix_claim: np.ndarray
    fix_rule: np.ndarray
    fix_risk: np.ndarray
    all_fixed_risk: np.ndarray
    fix_line: np.ndarray
    features: np.ndarray | None = None  # the claims' feature rows (serving.drift bins them)
    # (claims, families) P(denied for each reason family, CONTRACT §7), None without reason heads
    reasons: np.ndarray | None = None


def claim_charges(frame: ClaimFrame) -> np.ndarray:
    """Total charge per claim (CONTRACT §4): ``claims.charges.total_charges``, the one definition."""
    return total_charges(frame)


@functools.cache
def _rule_names() -> np.ndarray:
    """The catalog's rule ids as an object array, indexed by rule code."""
    from features.rules.catalog import RULE_IDS

    return np.asarray(RULE_IDS, dtype=object)


_EMPTY_I = np.empty(0, np.int64)
_EMPTY_F = np.empty(0, np.float64)


@dataclass(frozen=True)
class _FixVariants:
    """Per fired problem: claim, rule code, line (-1 at claim level); the distinct feature rows the
    fixes leave, and for each problem the index of its row among them."""

    claim: np.ndarray
    rule: np.ndarray
    line: np.ndarray
    variants: np.ndarray
    inverse: np.ndarray


def _rule_feature_columns(featurizer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per rule code: the feature column of its flag ``rule:<ID>`` and of its line count
    ``rule:<ID>:lines`` (-1 where the fitted featurizer has none: a rule added after the model was
    trained, or a claim-level rule), read from ``get_feature_names_out``; and the rule's other
    columns as a (rules, features) bool matrix, or None when no rule has any.

    The other columns come from the featurizer's own ``rule_columns`` (every column that belongs
    to a rule, e.g. its payer's recent denial rate on claims with that problem, ``features.recency``):
    they describe the claim *having* the problem, so they are cleared with the flag. Reading the
    featurizer's list, rather than guessing names here, keeps a column added to a rule from
    surviving its fix."""
    names = _rule_names().tolist()
    flag = np.full(len(names), -1, dtype=np.int64)
    lines = np.full(len(names), -1, dtype=np.int64)
    if featurizer is None:
        return flag, lines, None
    feature_names = [str(name) for name in featurizer.get_feature_names_out()]
    index = {name: k for k, name in enumerate(feature_names)}
    for code, rule_id in enumerate(names):
        flag[code] = index.get(f"rule:{rule_id}", -1)
        lines[code] = index.get(f"rule:{rule_id}:lines", -1)
    per_rule: dict[str, list[int]] = getattr(featurizer, "rule_columns", None) or {}
    other = np.zeros((len(names), len(feature_names)), dtype=bool)
    for code, rule_id in enumerate(names):
        other[code, per_rule.get(rule_id, [])] = True
    known = np.flatnonzero(flag >= 0)
    other[known, flag[known]] = False
    known = np.flatnonzero(lines >= 0)
    other[known, lines[known]] = False
    return flag, lines, (other if other.any() else None)


def rule_ids_per_claim(fired: Any, n_claims: int) -> list[list[str]]:
    """Distinct fired rule ids per claim, in the engine's order (line, then rule id)."""
    names = _rule_names()
    offsets = np.asarray(fired.offsets).tolist()
    codes = np.asarray(fired.rule, dtype=np.int64)
    out: list[list[str]] = []
    for i in range(n_claims):
        start, stop = offsets[i], offsets[i + 1]
        out.append(list(dict.fromkeys(names[codes[start:stop]].tolist())) if stop > start else [])
    return out


class Scorer:
    """A loaded model (or none) plus the rule context; immutable, so it can be swapped atomically."""

    def __init__(
        self, model: Any | None, *, metadata: Mapping[str, Any] | None = None, context: RuleContext
    ) -> None:
        self.model = model
        self.context = context
        meta = dict(getattr(model, "metadata", None) or {})
        meta.update(metadata or {})
        self.metadata: dict[str, Any] = meta
        self.model_version: str | None = (
            str(meta.get("model_version")) if model is not None and meta.get("model_version") else None
        )
        if model is not None and self.model_version is None:
            self.model_version = "unversioned"
        stored = meta.get("threshold", getattr(model, "threshold", None))
        self.threshold: float | None = float(stored) if stored is not None else None
        self._flag_col, self._lines_col, self._other_cols = _rule_feature_columns(getattr(model, "featurizer", None))
        self._cleared: np.ndarray | None = None

    @property
    def has_model(self) -> bool:
        return self.model is not None

    # -- rules only -------------------------------------------------------------------------

    def check(self, frame: ClaimFrame) -> list[dict[str, Any]]:
        from features.rules.engine import evaluate

        fired = evaluate(frame, policies=self.context.policies, reference=self.context.reference)
        per_claim = fired.results()
        return [
            {
                "claim_id": frame.claim_ids[i],
                "rules": per_claim[i],
                "rules_version": self.context.rules_version,
                "reference_data_version": self.context.reference_data_version,
            }
            for i in range(frame.n_claims)
        ]

    # -- model ------------------------------------------------------------------------------

    def resolve_threshold(self, threshold: float | None) -> float:
        if threshold is not None:
            return float(threshold)
        if self.threshold is None:
            raise ValueError("the model records no operating point; pass a threshold")
        return self.threshold

    def score_arrays(
        self, frame: ClaimFrame, threshold: float | None, *, with_fixes: bool, with_all_fixed: bool = False
    ) -> ScoreArrays:
        """Risks of a frame; ``with_fixes`` adds each fired problem's ``risk_if_fixed`` and
        ``with_all_fixed`` the risk with every reported problem fixed (the API's top-level
        ``risk_if_all_fixed`` and the worklist's ``--fixes``), all in one model call."""
        from serving.errors import ModelUnavailable

        model = self.model
        if model is None:
            raise ModelUnavailable("no model is loaded")
        cut = self.resolve_threshold(threshold)
        n = frame.n_claims
        X, fired = model.featurize(frame)
        X = np.asarray(X)
        fixes = (
            self._fix_variants(X, fired) if (with_fixes or with_all_fixed) and n
            else _FixVariants(_EMPTY_I, _EMPTY_I, _EMPTY_I, X[:0], _EMPTY_I)
        )
        all_claims, all_rows = (
            self._all_fixed_variants(X, fixes.claim, fixes.rule) if with_all_fixed and n else (_EMPTY_I, X[:0])
        )
        if n:  # originals, fix variants and all-fixed rows: one model call (module docstring)
            stacked = np.concatenate([X, fixes.variants, all_rows]) if fixes.variants.shape[0] else X
            risk_all = np.asarray(model.predict_from_features(stacked), np.float64)
        else:
            risk_all = _EMPTY_F
        n_var = fixes.variants.shape[0]
        risk = risk_all[:n]
        # the reason heads on the same rows, in the same call path (the fix variants need none)
        reasons = model.reason_probabilities(X, risk) if n and getattr(model, "reason_heads", None) else None
        fix_risk = risk_all[n : n + n_var][fixes.inverse]
        all_fixed = _EMPTY_F
        if with_all_fixed:
            all_fixed = risk.copy()
            all_fixed[fixes.claim] = fix_risk  # right for claims with one problem: its fix is all of them
            all_fixed[all_claims] = risk_all[n + n_var :]  # the others: their own row
        return ScoreArrays(
            claim_ids=frame.claim_ids,
            risk=risk,
            expected_loss=risk * claim_charges(frame),
            review=risk >= cut,
            threshold=cut,
            fired=fired,
            fix_claim=fixes.claim,
            fix_rule=_rule_names()[fixes.rule],
            fix_risk=fix_risk,
            all_fixed_risk=all_fixed,
            fix_line=fixes.line,
            features=X,
            reasons=reasons,
        )

    def _fix_variants(self, X: np.ndarray, fired: Any) -> _FixVariants:
        """The fired problems and the feature rows that fixing each one alone leaves.

        Fixing one problem of rule R on a claim lowers ``rule:R:lines`` by one when it is a line
        problem, and leaves the flag ``rule:R`` set while another problem of R remains on the
        claim; fixing the last problem of R also clears R's other columns (``rule_columns``: e.g.
        the payer's recent denial rate on claims with R, which a claim without R reads as 0).
        Problems of the same rule and level on one claim leave the same row (two NDC_MISSING
        lines: either fix leaves one line), so each distinct row is built and scored once and
        ``inverse`` maps every problem to its row."""
        claim = np.asarray(fired.claim_index, dtype=np.int64)
        if claim.shape[0] == 0:
            return _FixVariants(_EMPTY_I, _EMPTY_I, _EMPTY_I, X[:0], _EMPTY_I)
        rule = np.asarray(fired.rule, dtype=np.int64)
        line = np.asarray(fired.line_number, dtype=np.int64)
        pair = claim * len(_rule_names()) + rule
        _, pair_of, pair_count = np.unique(pair, return_inverse=True, return_counts=True)
        remaining = pair_count[pair_of] - 1  # problems of that rule left on the claim after this fix
        _, first, inverse = np.unique(pair * 2 + (line >= 0), return_index=True, return_inverse=True)
        u_claim, u_rule, u_on_line = claim[first], rule[first], line[first] >= 0
        variants = X[u_claim]  # a copy (fancy indexing), one row per distinct fix
        rows = np.arange(first.shape[0])
        flag = self._flag_col[u_rule]
        has_flag = flag >= 0  # a rule the model was trained without has no column: nothing changes
        variants[rows[has_flag], flag[has_flag]] = remaining[first][has_flag] > 0
        lines = self._lines_col[u_rule]
        on_lines = (lines >= 0) & u_on_line
        variants[rows[on_lines], lines[on_lines]] -= np.float32(1)
        if self._other_cols is not None:  # the rule's other columns go with its last problem
            gone = np.flatnonzero(remaining[first] == 0)
            variants[gone] = np.where(self._other_cols[u_rule[gone]], np.float32(0), variants[gone])
        return _FixVariants(claim, rule, line, variants, inverse.reshape(-1))

    def _all_fixed_variants(self, X: np.ndarray, fix_claim: np.ndarray, fix_rule: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One row per claim with two or more problems, every rule column of theirs cleared (a claim
        with one problem needs none: its one fix is all of them). Problems come sorted by claim."""
        if fix_claim.shape[0] == 0:
            return _EMPTY_I, X[:0]
        starts = np.flatnonzero(np.concatenate(([True], fix_claim[1:] != fix_claim[:-1])))
        multi = np.diff(np.append(starts, fix_claim.shape[0])) > 1
        cleared = np.logical_or.reduceat(self._cleared_columns(X.shape[1])[fix_rule], starts, axis=0)[multi]
        claims = fix_claim[starts[multi]]
        return claims, np.where(cleared, np.float32(0), X[claims])

    def _cleared_columns(self, width: int) -> np.ndarray:
        """(rules, features) bool: every column of each rule (flag, line count and the rule's other
        columns); built once per width."""
        cached = self._cleared
        if cached is None or cached.shape[1] != width:
            cached = np.zeros((len(_rule_names()), width), dtype=bool)
            for cols in (self._flag_col, self._lines_col):
                known = np.flatnonzero(cols >= 0)
                cached[known, cols[known]] = True
            if self._other_cols is not None and self._other_cols.shape[1] == width:
                cached |= self._other_cols
            self._cleared = cached
        return cached

    def score(self, frame: ClaimFrame, threshold: float | None = None) -> list[dict[str, Any]]:
        """CONTRACT §4 score answers, one per claim: each fired problem with its ``risk_if_fixed``,
        and the claim's ``risk_if_all_fixed`` (what the API answers)."""
        return self.answers(self.score_arrays(frame, threshold, with_fixes=True, with_all_fixed=True))

    def answers(self, arrays: ScoreArrays) -> list[dict[str, Any]]:
        """Parallel arrays -> JSON-ready answers (the only per-claim Python loop: building output)."""
        per_claim = arrays.fired.results()
        risk = arrays.risk.tolist()
        # one risk_if_fixed per fired problem, in the engine's order; without fixes, the risk itself
        fix_risk = arrays.fix_risk.tolist() if arrays.fix_claim.shape[0] == len(arrays.fired) else None
        all_fixed = arrays.all_fixed_risk.tolist() if arrays.all_fixed_risk.shape[0] == len(risk) else None
        offsets = np.asarray(arrays.fired.offsets).tolist()
        loss = arrays.expected_loss.tolist()
        review = arrays.review.tolist()
        reasons = reason_answers(arrays.reasons, per_claim)
        out: list[dict[str, Any]] = []
        for i in range(len(risk)):
            rules = per_claim[i]
            fixed = fix_risk[offsets[i] : offsets[i + 1]] if fix_risk is not None else [risk[i]] * len(rules)
            for rule, value in zip(rules, fixed, strict=True):
                rule["risk_if_fixed"] = value
            answer = {
                "claim_id": arrays.claim_ids[i],
                "risk": risk[i],
                "decision": DECISION_REVIEW if review[i] else DECISION_PASS,
                "threshold": arrays.threshold,
                "expected_loss": loss[i],
                "model_version": self.model_version,
                "rules_version": self.context.rules_version,
                "reference_data_version": self.context.reference_data_version,
                "rules": rules,
                "reasons": reasons[i],
            }
            if all_fixed is not None:
                answer["risk_if_all_fixed"] = all_fixed[i]
            out.append(answer)
        return out


REASON_FLOOR = 0.01
"""A family is answered when its probability is at least this, when a fired rule belongs to it, or
when it is the claim's likeliest (the worklist's ``top_reason``, so a claim with risk but no fired
rule always says where to look): all eleven would bury the two that matter under near-zero ones."""


@functools.cache
def _rule_family_names() -> dict[str, str]:
    """Rule id -> reason family name (CONTRACT §7), from ``features.denial_reasons``' table."""
    from features.denial_reasons import FAMILIES, load_table
    from features.rules.catalog import RULE_IDS

    table = load_table()
    return {rule_id: FAMILIES[table.rule_family(rule_id)] for rule_id in RULE_IDS}


def reason_answers(probabilities: np.ndarray | None, rules: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Per claim, CONTRACT §7 ``reasons``: ``{"family", "probability", "rules"}`` highest first,
    families under REASON_FLOOR left out unless one of their rules fired or they come first; []
    without reason heads. The probabilities come from one vectorized model call
    (``Scorer.score_arrays``); this only builds the JSON lists, a few small Python operations
    per claim (measured cheaper than a dozen NumPy calls for the one-claim requests that dominate)."""
    if probabilities is None:
        return [[] for _ in rules]
    from features.denial_reasons import FAMILIES

    family_of = _rule_family_names()
    names = range(len(FAMILIES))
    out: list[list[dict[str, Any]]] = []
    for row, fired in zip(probabilities.tolist(), rules, strict=True):
        by_family: dict[str, list[str]] = {}
        for rule in fired:
            ids = by_family.setdefault(family_of.get(rule["id"], "other"), [])
            if rule["id"] not in ids:
                ids.append(rule["id"])
        order = sorted(names, key=row.__getitem__, reverse=True)  # stable: ties keep contract order
        out.append([
            {"family": FAMILIES[k], "probability": row[k], "rules": by_family.get(FAMILIES[k], [])}
            for rank, k in enumerate(order)
            if rank == 0 or row[k] >= REASON_FLOOR or FAMILIES[k] in by_family
        ])
    return out
