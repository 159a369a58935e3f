"""Scoring shared by the API and ``claimrisk score``: pure NumPy over a ``ClaimFrame``, no FastAPI.

Keeping one code path for both is what makes the worklist and the API agree on every risk (a test
asserts it): both featurize with the model's own featurizer and call ``predict_from_features`` on
the same matrix.

``risk_if_fixed`` answers the biller's question "how much would fixing this problem help?": the
claim is re-scored with that rule's feature columns cleared, as if the problem were corrected.
All claims' originals and every (claim, fired rule) variant go through one model call, because the
per-call overhead of a scikit-learn/LightGBM predict dwarfs the per-row cost.
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

    ``fix_claim``/``fix_rule``/``fix_risk`` hold one entry per distinct (claim, fired rule): the
    claim's risk with that rule's problem corrected; ``all_fixed_risk`` one per claim: its risk with
    every flagged problem corrected at once (the risk no billing fix can remove). Each is empty when
    it was not requested.
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


def claim_charges(frame: ClaimFrame) -> np.ndarray:
    """Total charge per claim (CONTRACT §4): ``claims.charges.total_charges``, the one definition."""
    return total_charges(frame)


@functools.cache
def _rule_names() -> np.ndarray:
    """The catalog's rule ids as an object array, indexed by rule code."""
    from features.rules.catalog import RULE_IDS

    return np.asarray(RULE_IDS, dtype=object)


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
        featurizer = getattr(model, "featurizer", None)
        self._rule_columns: dict[str, np.ndarray] = {
            rule: np.asarray(cols, dtype=np.int64)
            for rule, cols in (getattr(featurizer, "rule_columns", None) or {}).items()
        }
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
        """Risks of a frame; ``with_fixes`` adds each fired rule's ``risk_if_fixed`` and
        ``with_all_fixed`` (the worklist's ``--fixes``) the risk with every flagged problem fixed."""
        from serving.errors import ModelUnavailable

        model = self.model
        if model is None:
            raise ModelUnavailable("no model is loaded")
        cut = self.resolve_threshold(threshold)
        n = frame.n_claims
        X, fired = model.featurize(frame)
        X = np.asarray(X)
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float64)
        fix_claim, fix_rule, fix_risk, all_fixed = empty_i, np.empty(0, dtype=object), empty_f, empty_f
        if with_fixes and n:
            fix_claim, pair_rule, variants = self._fix_variants(X, fired)
            fix_rule = _rule_names()[pair_rule]
            if variants.shape[0]:
                all_claims, all_variants = (
                    self._all_fixed_variants(X, fix_claim, pair_rule) if with_all_fixed else (empty_i, X[:0])
                )
                # originals, one-fix variants and any all-fixed variants scored in one model call
                stacked = np.concatenate([X, variants, all_variants])
                risk_all = np.asarray(model.predict_from_features(stacked), np.float64)
                n_fix = variants.shape[0]
                risk, fix_risk = risk_all[:n], risk_all[n : n + n_fix]
                if with_all_fixed:
                    all_fixed = risk.copy()
                    all_fixed[fix_claim] = fix_risk  # right for claims with one fired rule
                    all_fixed[all_claims] = risk_all[n + n_fix :]  # the others: their own row
            else:  # nothing fired (most claims): no variants to stack under the originals
                risk = np.asarray(model.predict_from_features(X), dtype=np.float64)
                all_fixed = risk if with_all_fixed else empty_f
        elif n:
            risk = np.asarray(model.predict_from_features(X), dtype=np.float64)
        else:
            risk = empty_f
        return ScoreArrays(
            claim_ids=frame.claim_ids,
            risk=risk,
            expected_loss=risk * claim_charges(frame),
            review=risk >= cut,
            threshold=cut,
            fired=fired,
            fix_claim=fix_claim,
            fix_rule=fix_rule,
            fix_risk=fix_risk,
            all_fixed_risk=all_fixed,
        )

    def _fix_variants(self, X: np.ndarray, fired: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One row per distinct (claim, fired rule code): the claim's features with that rule's columns cleared."""
        claim_index = np.asarray(fired.claim_index, dtype=np.int64)
        if claim_index.shape[0] == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), X[:0]
        from features.rules.catalog import RULE_IDS

        n_rules = len(RULE_IDS)
        keys = np.unique(claim_index * n_rules + np.asarray(fired.rule, dtype=np.int64))
        pair_claim, pair_rule = keys // n_rules, keys % n_rules
        # one select for every pair, however many rules fired: the rule's columns read 0
        variants = np.where(self._cleared_columns(X.shape[1])[pair_rule], np.float32(0), X[pair_claim])
        return pair_claim, pair_rule, variants

    def _all_fixed_variants(
        self, X: np.ndarray, pair_claim: np.ndarray, pair_rule: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One row per claim with two or more fired rules, all their columns cleared (a claim with one
        rule needs none: its one fix is all of them). Pairs come sorted by claim from ``_fix_variants``."""
        starts = np.flatnonzero(np.concatenate(([True], pair_claim[1:] != pair_claim[:-1])))
        multi = np.diff(np.append(starts, pair_claim.shape[0])) > 1
        cleared = np.logical_or.reduceat(self._cleared_columns(X.shape[1])[pair_rule], starts, axis=0)[multi]
        claims = pair_claim[starts[multi]]
        return claims, np.where(cleared, np.float32(0), X[claims])

    def _cleared_columns(self, width: int) -> np.ndarray:
        """(rules, features) bool: the feature columns fixing each rule clears; built once per width."""
        cached = self._cleared
        if cached is None or cached.shape[1] != width:
            from features.rules.catalog import RULE_IDS

            cached = np.zeros((len(RULE_IDS), width), dtype=bool)
            for code, rule_id in enumerate(RULE_IDS):
                columns = self._rule_columns.get(rule_id)
                if columns is not None:
                    cached[code, columns] = True
            self._cleared = cached
        return cached

    def score(self, frame: ClaimFrame, threshold: float | None = None) -> list[dict[str, Any]]:
        """CONTRACT §4 score answers, one per claim, each fired rule with its ``risk_if_fixed``."""
        return self.answers(self.score_arrays(frame, threshold, with_fixes=True))

    def answers(self, arrays: ScoreArrays) -> list[dict[str, Any]]:
        """Parallel arrays -> JSON-ready answers (the only per-claim Python loop: building output)."""
        per_claim = arrays.fired.results()
        fixes: dict[tuple[int, str], float] = dict(
            zip(
                zip(arrays.fix_claim.tolist(), arrays.fix_rule.tolist(), strict=True),
                arrays.fix_risk.tolist(),
                strict=True,
            )
        )
        risk = arrays.risk.tolist()
        loss = arrays.expected_loss.tolist()
        review = arrays.review.tolist()
        out: list[dict[str, Any]] = []
        for i in range(len(risk)):
            rules = per_claim[i]
            for rule in rules:
                rule["risk_if_fixed"] = fixes.get((i, rule["id"]), risk[i])
            out.append(
                {
                    "claim_id": arrays.claim_ids[i],
                    "risk": risk[i],
                    "decision": DECISION_REVIEW if review[i] else DECISION_PASS,
                    "threshold": arrays.threshold,
                    "expected_loss": loss[i],
                    "model_version": self.model_version,
                    "rules_version": self.context.rules_version,
                    "reference_data_version": self.context.reference_data_version,
                    "rules": rules,
                }
            )
        return out
