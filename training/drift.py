"""Drift: how far the claims the model sees now are from the claims it was trained on.

A model learns what payers denied in its training window. When the mix of payers, claim types,
settings or charges moves, or a rule starts firing far more (or less) often at one payer, the
model's numbers were measured on a population that no longer exists, and the analyst should look
before trusting them (and probably retrain). The population stability index (PSI) says how far
two distributions are apart on the same bins: ``sum((q - p) * ln(q / p))``; under 0.1 is the same
population, over 0.2 a shift worth acting on (flagged ``"drifted": true``).

Everything is counts in fixed bins, so the training run, ``claimrisk drift`` and the API's live
window all compare like with like and never keep claim content:

- bins are fixed at training time, on the training window: deciles (distinct edges only) of the
  score and of the main numeric context features (charges, units, filing lag ...), plus a bin for
  missing values; the one-hot category blocks (payer, payer type, claim type, setting) bin by
  category;
- each rule's firing rate is a two-bin distribution (fired, not fired), overall and per payer: a
  payer that starts enforcing a rule shows up there first.

The reference (``DriftReference``) is a plain JSON-able dict stored in ``RiskModel.metadata`` (and
so in ``claimrisk.json``): the bin edges, the feature columns they read, and the window's counts.
Rows are binned straight from the model's feature matrix, picked by the feature names the
featurizer gives (``get_feature_names_out``), so the drift code needs no claim-level logic of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

FORMAT = 1
PSI_DRIFTED = 0.2  # the usual reading of PSI: above it, the population has shifted
EPSILON = 1e-4  # share given to an empty bin, so that ln(q / p) stays finite
MIN_CLAIMS = 100  # fewer recent claims than this (overall, or at one payer) flag nothing: noise
REFERENCE_ROWS = 200_000  # training-window claims binned for the reference (evenly spaced)
DECILES = np.linspace(0.1, 0.9, 9)

SCORE = "score"
# The main context features: money, volume and the filing lag (days from service to submission).
CONTEXT_NUMERIC = (
    "total_charge",
    "units_total",
    "days_to_submission_max",
    "n_lines",
    "charge_to_limit_max",
    "n_diagnoses",
)
# One-hot blocks, named by their column prefix ``<group>=``: payer mix, payer type, claim type, setting.
CONTEXT_CATEGORIES = ("payer_id", "payer_type", "claim_type", "place_of_service")
PAYER_GROUP = "payer_id"
RULE_PREFIX = "rule:"
NO_CATEGORY = "__none__"


class DriftReference(TypedDict):
    """What the training window looked like, in the bins every later comparison uses."""

    format: int
    window: dict[str, Any]  # the training window: claims, from, to (as the model card states it)
    claims: int  # claims binned (an evenly spaced sample of the window when it is large)
    score_edges: list[float]
    numeric: dict[str, list[float]]  # feature -> inner bin edges
    categorical: dict[str, list[str]]  # group -> its feature columns (a one-hot block, or one 0/1 column)
    rules: list[str]  # rule ids, the order of the rule counts
    payers: list[str]  # payer categories (the payer_id block's, then NO_CATEGORY), the order of payer counts
    counts: dict[str, list[int]]  # group -> counts per bin ("score", numeric and categorical groups)
    rule_counts: list[int]  # claims each rule fired on
    payer_claims: list[int]
    payer_rule_counts: list[list[int]]  # payer x rule


def reference_rows(n_claims: int, limit: int = REFERENCE_ROWS) -> np.ndarray:
    """Row positions binned for the reference: all of them, or ``limit`` evenly spaced over the window
    (deciles and rates of 200,000 claims are as good as of a million, at a fifth of the scoring)."""
    if n_claims <= limit:
        return np.arange(n_claims)
    return np.unique(np.linspace(0, n_claims - 1, limit).astype(np.int64))


def _edges(values: np.ndarray) -> list[float]:
    """Distinct training-window deciles: a feature that is mostly zero gets fewer, wider bins."""
    finite = values[np.isfinite(values)].astype(np.float64)
    if finite.shape[0] == 0:
        return []
    return [float(v) for v in np.unique(np.quantile(finite, DECILES))]


def _category_columns(names: list[str], group: str) -> list[str]:
    prefix = f"{group}="
    return [name for name in names if name.startswith(prefix)]


def _rule_columns(names: list[str]) -> list[str]:
    # the flags only: "rule:<ID>"; a rule's other columns (line count, recency rates) are not rules
    return [n for n in names if n.startswith(RULE_PREFIX) and n.count(":") == 1]


def build_reference(X: np.ndarray, risk: np.ndarray, names: list[str], window: dict[str, Any]) -> DriftReference:
    """The reference of a training window: ``X`` its feature rows (named ``names``), ``risk`` the
    model's scores of the same rows, ``window`` what the model card says about the window."""
    index = {name: i for i, name in enumerate(names)}
    numeric = {f: _edges(np.asarray(X[:, index[f]])) for f in CONTEXT_NUMERIC if f in index}
    categorical = {g: cols for g in CONTEXT_CATEGORIES if (cols := _category_columns(names, g))}
    payer_cols = categorical.get(PAYER_GROUP, [])
    reference: DriftReference = {
        "format": FORMAT,
        "window": dict(window),
        "claims": int(X.shape[0]),
        "score_edges": _edges(np.asarray(risk)),
        "numeric": numeric,
        "categorical": categorical,
        "rules": [c[len(RULE_PREFIX) :] for c in _rule_columns(names)],
        "payers": [c[len(PAYER_GROUP) + 1 :] for c in payer_cols] + [NO_CATEGORY],
        "counts": {},
        "rule_counts": [],
        "payer_claims": [],
        "payer_rule_counts": [],
    }
    bins = DriftBins.of(reference, names)
    counts = bins.count(bins.codes(X, risk))
    reference["counts"] = {g: counts.group(bins, g).tolist() for g in bins.groups}
    reference["rule_counts"] = counts.rules.tolist()
    reference["payer_claims"] = counts.payer_claims.tolist()
    reference["payer_rule_counts"] = counts.payer_rules.tolist()
    return reference


@dataclass(frozen=True)
class DriftBins:
    """A reference's bins laid over one featurizer's columns: what turns feature rows into bin codes.

    A row's codes are one ``uint16`` per group (its bin), then its payer, then one 0/1 per rule: a
    few dozen small integers, the only thing the live window keeps of a scored claim. ``codes`` is
    a fixed dozen whole-array calls whatever the number of groups, because the API calls it on
    every scored request: the numeric groups are compared against one padded edge matrix, and the
    category blocks are decoded by one small matrix product."""

    groups: tuple[str, ...]  # SCORE, the numeric features, the categorical groups
    sizes: np.ndarray  # bins per group
    offsets: np.ndarray  # where each group's bins start in the concatenated counts
    numeric_cols: np.ndarray  # feature columns of the numeric groups after SCORE
    edges: np.ndarray  # (numeric groups incl. SCORE, most edges) inner edges, padded with +inf
    nan_bins: np.ndarray  # per numeric group: the bin of a missing value (after the last edge's bin)
    category_cols: np.ndarray  # every category block's columns, block after block
    category_weights: np.ndarray  # (category columns, blocks): 1 + the column's place in its block
    none_codes: np.ndarray  # per block: the code of "no column set" (the block's width; 0 for a 0/1 column)
    none_shift: np.ndarray  # per block: 1 for a one-hot block (weights start at 1), 0 for a 0/1 column
    payer_group: int  # the payer block's position among the categorical groups (-1: none)
    rule_cols: np.ndarray
    n_payers: int

    @classmethod
    def of(cls, reference: DriftReference, names: list[str]) -> DriftBins:
        """Positions of the reference's columns among ``names``; ValueError when one is missing
        (the model's featurizer is not the one the reference was built with)."""
        index = {str(name): i for i, name in enumerate(names)}

        def cols(columns: list[str]) -> np.ndarray:
            missing = [c for c in columns if c not in index]
            if missing:
                raise ValueError(f"the drift reference names {len(missing)} columns the featurizer lacks")
            return np.asarray([index[c] for c in columns], dtype=np.int64)

        numeric = list(reference["numeric"])
        categorical = list(reference["categorical"])
        edges = [reference["score_edges"], *(reference["numeric"][f] for f in numeric)]
        blocks = [reference["categorical"][g] for g in categorical]
        weights = np.zeros((sum(len(b) for b in blocks), len(blocks)), dtype=np.float32)
        row = 0
        for k, block in enumerate(blocks):
            weights[row : row + len(block), k] = np.arange(1, len(block) + 1)
            row += len(block)
        one_hot = np.asarray([len(b) > 1 for b in blocks], dtype=bool)
        # a numeric group: below, between and above the edges, and missing; a category block: each
        # column and "none of them" (a single 0/1 column: absent, present)
        sizes = [len(e) + 2 for e in edges] + [len(b) + 1 for b in blocks]
        return cls(
            groups=(SCORE, *numeric, *categorical),
            sizes=np.asarray(sizes, dtype=np.int64),
            offsets=np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64),
            numeric_cols=cols(numeric),
            edges=_padded(edges),
            nan_bins=np.asarray([len(e) + 1 for e in edges], dtype=np.int64),
            category_cols=cols([c for b in blocks for c in b]),
            category_weights=weights,
            none_codes=np.where(one_hot, [len(b) for b in blocks], 0).astype(np.float32),
            none_shift=one_hot.astype(np.float32),
            payer_group=categorical.index(PAYER_GROUP) if PAYER_GROUP in categorical else -1,
            rule_cols=cols([f"{RULE_PREFIX}{r}" for r in reference["rules"]]),
            n_payers=len(reference["payers"]),
        )

    @property
    def width(self) -> int:
        """Codes per row: the groups, the payer, the rules."""
        return len(self.groups) + 1 + int(self.rule_cols.shape[0])

    def codes(self, X: np.ndarray, risk: np.ndarray) -> np.ndarray:
        """(rows, width) uint16 bin codes of feature rows and their scores."""
        n, n_numeric, n_groups = X.shape[0], self.edges.shape[0], len(self.groups)
        out = np.empty((n, self.width), dtype=np.uint16)
        values = np.empty((n, n_numeric), dtype=np.float64)
        values[:, 0] = risk
        values[:, 1:] = X[:, self.numeric_cols]
        # as searchsorted(edges, value, side="right"): the number of edges at or below the value
        binned = (values[:, :, None] >= self.edges).sum(axis=2)
        out[:, :n_numeric] = np.where(np.isnan(values), self.nan_bins, binned)
        place = (X[:, self.category_cols] > 0).astype(np.float32) @ self.category_weights
        place = np.where(place == 0, self.none_codes, place - self.none_shift)
        out[:, n_numeric:n_groups] = np.minimum(place, self.sizes[n_numeric:] - 1)  # a block is one-hot
        out[:, n_groups] = out[:, n_numeric + self.payer_group] if self.payer_group >= 0 else 0
        out[:, n_groups + 1 :] = X[:, self.rule_cols] > 0
        return out

    def count(self, codes: np.ndarray) -> DriftCounts:
        """Counts of a block of codes: one ``bincount`` for all groups' bins, one for payer x rule."""
        n_groups, n_rules = len(self.groups), int(self.rule_cols.shape[0])
        shifted = codes[:, :n_groups].astype(np.int64) + self.offsets
        bins = np.bincount(shifted.ravel(), minlength=int(self.sizes.sum()))
        payer = codes[:, n_groups].astype(np.int64)
        flags = codes[:, n_groups + 1 :]
        rows, rules = np.nonzero(flags)
        payer_rules = np.bincount(payer[rows] * n_rules + rules, minlength=self.n_payers * n_rules)
        return DriftCounts(
            claims=int(codes.shape[0]),
            bins=bins,
            rules=np.bincount(rules, minlength=n_rules),
            payer_claims=np.bincount(payer, minlength=self.n_payers),
            payer_rules=payer_rules.reshape(self.n_payers, n_rules),
        )


def _padded(edges: list[list[float]]) -> np.ndarray:
    """Edge lists as one matrix, short rows padded with +inf (no finite value reaches those)."""
    out = np.full((len(edges), max((len(e) for e in edges), default=0)), np.inf)
    for k, row in enumerate(edges):
        out[k, : len(row)] = row
    return out


@dataclass(frozen=True)
class DriftCounts:
    """How many claims fell in each bin: a reference's or a recent window's."""

    claims: int
    bins: np.ndarray  # every group's bins, concatenated (DriftBins.offsets)
    rules: np.ndarray  # claims each rule fired on
    payer_claims: np.ndarray
    payer_rules: np.ndarray  # payer x rule

    def group(self, bins: DriftBins, group: str) -> np.ndarray:
        g = bins.groups.index(group)
        start = int(bins.offsets[g])
        return self.bins[start : start + int(bins.sizes[g])]

    @classmethod
    def of_reference(cls, reference: DriftReference, bins: DriftBins) -> DriftCounts:
        return cls(
            claims=int(reference["claims"]),
            bins=np.concatenate([np.asarray(reference["counts"][g], dtype=np.int64) for g in bins.groups]),
            rules=np.asarray(reference["rule_counts"], dtype=np.int64),
            payer_claims=np.asarray(reference["payer_claims"], dtype=np.int64),
            payer_rules=np.asarray(reference["payer_rule_counts"], dtype=np.int64).reshape(
                bins.n_payers, int(bins.rule_cols.shape[0])
            ),
        )

    def __add__(self, other: DriftCounts) -> DriftCounts:
        return DriftCounts(
            claims=self.claims + other.claims,
            bins=self.bins + other.bins,
            rules=self.rules + other.rules,
            payer_claims=self.payer_claims + other.payer_claims,
            payer_rules=self.payer_rules + other.payer_rules,
        )


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = EPSILON) -> float:
    """Population stability index of two count (or share) vectors over the same bins; an empty bin
    counts as ``epsilon`` of its population. 0 for identical distributions."""
    p = np.maximum(_shares(expected), epsilon)
    q = np.maximum(_shares(actual), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def rate_psi(expected_rate: np.ndarray, actual_rate: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """PSI of firing rates taken as two-bin distributions (fired, not fired), elementwise."""
    p = np.maximum(np.asarray(expected_rate, dtype=np.float64), epsilon)
    q = np.maximum(np.asarray(actual_rate, dtype=np.float64), epsilon)
    p_not = np.maximum(1.0 - np.asarray(expected_rate, dtype=np.float64), epsilon)
    q_not = np.maximum(1.0 - np.asarray(actual_rate, dtype=np.float64), epsilon)
    return np.asarray((q - p) * np.log(q / p) + (q_not - p_not) * np.log(q_not / p_not))


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else counts


def _rates(counts: np.ndarray, claims: np.ndarray | int) -> np.ndarray:
    denominator = np.maximum(np.asarray(claims, dtype=np.float64), 1.0)
    return np.asarray(counts, dtype=np.float64) / denominator


def drift_report(
    reference: DriftReference, X: np.ndarray, risk: np.ndarray, names: list[str], **options: Any
) -> dict[str, Any]:
    """The PSI report of feature rows (named ``names``) and their scores against a reference."""
    bins = DriftBins.of(reference, names)
    return report_from_counts(reference, bins, bins.count(bins.codes(X, risk)), **options)


def report_from_counts(
    reference: DriftReference,
    bins: DriftBins,
    recent: DriftCounts,
    *,
    threshold: float = PSI_DRIFTED,
    min_claims: int = MIN_CLAIMS,
) -> dict[str, Any]:
    """The PSI report of recent counts against the reference's: per feature group, for the score,
    per rule and per payer and rule. Nothing is flagged on fewer than ``min_claims`` recent claims
    (overall, or at a payer): a PSI of a handful of claims measures luck, not the population."""
    base = DriftCounts.of_reference(reference, bins)
    enough = recent.claims >= min_claims

    def entry(value: float) -> dict[str, Any]:
        return {"psi": round(value, 6), "drifted": bool(enough and value > threshold)}

    score = entry(psi(base.group(bins, SCORE), recent.group(bins, SCORE)))
    context = {g: entry(psi(base.group(bins, g), recent.group(bins, g))) for g in bins.groups if g != SCORE}
    rules = _rule_entries(
        reference["rules"], (base.rules, base.claims), (recent.rules, recent.claims), threshold if enough else np.inf
    )
    payers = _payer_entries(reference, base, recent, threshold, min_claims)
    flagged = [SCORE] if score["drifted"] else []
    flagged += [f"context:{g}" for g, e in context.items() if e["drifted"]]
    flagged += [f"rules:{r}" for r, e in rules.items() if e["drifted"]]
    flagged += [f"rules_by_payer:{p}:{r}" for p, e in payers.items() for r, v in e.get("rules", {}).items() if v["drifted"]]
    payer_psi = [e["psi"] for e in payers.values() if e["psi"] is not None]
    return {
        "psi_threshold": threshold,
        "min_claims": min_claims,
        "reference": {**reference["window"], "claims_binned": int(reference["claims"])},
        "recent": {"claims": recent.claims},
        "enough_claims": enough,
        "drifted": bool(flagged),
        "flagged": flagged,
        "groups": {
            SCORE: score["psi"],
            "context": max((e["psi"] for e in context.values()), default=0.0),
            "rules": max((e["psi"] for e in rules.values()), default=0.0),
            "rules_by_payer": max(payer_psi) if payer_psi else None,
        },
        SCORE: score,
        "context": context,
        "rules": rules,
        "rules_by_payer": payers,
    }


def _rule_entries(
    rule_ids: list[str], base: tuple[np.ndarray, int], recent: tuple[np.ndarray, int], threshold: float
) -> dict[str, dict[str, Any]]:
    """Per rule: its firing rate in the window and now (``(claims fired on, claims)`` of each), and
    their two-bin PSI."""
    before, now = _rates(*base), _rates(*recent)
    values = rate_psi(before, now)
    return {
        rule: {
            "reference_rate": round(float(b), 6),
            "recent_rate": round(float(r), 6),
            "psi": round(float(v), 6),
            "drifted": bool(v > threshold),
        }
        for rule, b, r, v in zip(rule_ids, before.tolist(), now.tolist(), values.tolist(), strict=True)
    }


def _payer_entries(
    reference: DriftReference, base: DriftCounts, recent: DriftCounts, threshold: float, min_claims: int
) -> dict[str, dict[str, Any]]:
    """Per payer seen in either population: claims, and with at least ``min_claims`` in both, each
    rule that fired there (either population) with its rates and PSI, and the worst rule's PSI."""
    out: dict[str, dict[str, Any]] = {}
    rule_ids = reference["rules"]
    for p, payer in enumerate(reference["payers"]):
        n_base, n_recent = int(base.payer_claims[p]), int(recent.payer_claims[p])
        if n_base == 0 and n_recent == 0:
            continue
        entry: dict[str, Any] = {"claims": n_recent, "reference_claims": n_base, "psi": None, "drifted": False}
        if min(n_base, n_recent) >= min_claims:
            fired = np.flatnonzero((base.payer_rules[p] > 0) | (recent.payer_rules[p] > 0))
            rules = _rule_entries(
                [rule_ids[i] for i in fired.tolist()],
                (base.payer_rules[p, fired], n_base),
                (recent.payer_rules[p, fired], n_recent),
                threshold,
            )
            entry["rules"] = rules
            entry["psi"] = max((v["psi"] for v in rules.values()), default=0.0)
            entry["drifted"] = any(v["drifted"] for v in rules.values())
        out[payer] = entry
    return out


def window_reference(
    X: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], names: list[str], window: dict[str, Any]
) -> DriftReference:
    """The reference of a training window from its whole feature matrix: at most ``REFERENCE_ROWS``
    evenly spaced rows are scored with ``predict`` (the shipped model's) and binned."""
    rows = reference_rows(X.shape[0])
    sample = X[rows]
    return build_reference(sample, np.asarray(predict(sample), dtype=np.float64), names, window)
