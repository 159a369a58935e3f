"""What each payer does with each rule: the statistics of ``claimrisk payers``, scorer-free.

A payer's policy file says which rules it enforces; the remittance history says what the payer
actually denies. This module turns (payer, fired rules, label, denied dollars, reason families,
per-claim rule effects) into the per payer x rule table, the monthly trend and the suggested
policy changes. It knows nothing of models: the effects arrive as plain arrays
(``serving.payer_report`` computes them with the scorer's per-problem ``risk_if_fixed``), so every
number here can be checked by hand on a small table.

Why two measures. ``lift`` (denial rate of flagged over unflagged claims at the payer) is what an
analyst computes first, and it is badly confounded: careless providers make several errors at
once, so a rule the payer ignores still rides along with denied claims (a lift of 2.5 was measured
for such a rule on an independent history). ``effect`` is the model's answer to "how much lower
would the risk be with this problem fixed, everything else about the claim unchanged", averaged
over the payer's flagged claims; suggestions rest on it, and lift is shown as evidence only.

Everything is grouped with ``np.bincount`` over payer x rule codes: no Python runs per claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Z_95 = 1.959963984540054
# Haldane-Anscombe: a 2x2 table with an empty cell gets 0.5 added to each of its four cells, so the
# ratio and its log-scale interval stay finite (a rule never denied at a payer has a lift near 0,
# with a wide interval, rather than a lift of exactly 0 and an interval of [0, 0]).
CONTINUITY = 0.5
# A relax suggestion needs this many flagged claims at the payer (issue 21 item 5): fewer claims
# make the payer's effect too noisy to change a policy on. Enforce suggestions use the same floor.
MIN_FLAGGED = 100
# Relax when the payer's effect is below this share of the rule's effect over every other payer.
RELAX_SHARE = 1.0 / 3.0


def katz_interval(
    denied_flagged: np.ndarray, flagged: np.ndarray, denied_unflagged: np.ndarray, unflagged: np.ndarray,
    z: float = Z_95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ratio, low, high) of the denial rate of flagged over unflagged claims, element-wise.

    Katz's interval: log RR ± z · sqrt(1/a − 1/n1 + 1/c − 1/n0), with a = denied flagged out of n1
    flagged and c = denied unflagged out of n0 unflagged. A table with a zero cell (a, n1 − a, c or
    n0 − c) gets CONTINUITY added to all four cells first. Cells with no flagged or no unflagged
    claim have no ratio (NaN)."""
    a = np.asarray(denied_flagged, dtype=np.float64)
    n1 = np.asarray(flagged, dtype=np.float64)
    c = np.asarray(denied_unflagged, dtype=np.float64)
    n0 = np.asarray(unflagged, dtype=np.float64)
    b, d = n1 - a, n0 - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, CONTINUITY, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    n1c, n0c = a + b, c + d
    defined = (np.asarray(flagged) > 0) & (np.asarray(unflagged) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rr = np.log(a / n1c) - np.log(c / n0c)
        se = np.sqrt(1.0 / a - 1.0 / n1c + 1.0 / c - 1.0 / n0c)
    nan = np.full(log_rr.shape, np.nan)
    ratio = np.where(defined, np.exp(log_rr), nan)
    low = np.where(defined, np.exp(log_rr - z * se), nan)
    high = np.where(defined, np.exp(log_rr + z * se), nan)
    return ratio, low, high


@dataclass(frozen=True)
class FlagPairs:
    """The (claim, rule) pairs where a rule fired on a claim, each pair once."""

    claim: np.ndarray  # int64 row into the labelled claims
    rule: np.ndarray  # int64 code into the rule ids

    @staticmethod
    def of(flags: np.ndarray) -> FlagPairs:
        """From a (claims, rules) flag matrix."""
        claim, rule = np.nonzero(np.asarray(flags) > 0)
        return FlagPairs(claim.astype(np.int64), rule.astype(np.int64))


@dataclass(frozen=True)
class PayerRuleTable:
    """(payers, rules) arrays of the report, with the payer and rule names that index them."""

    payers: np.ndarray  # object, payer ids
    rules: tuple[str, ...]
    claims: np.ndarray  # (payers,) labelled claims
    denied: np.ndarray  # (payers,) denied claims
    flagged: np.ndarray  # (payers, rules) claims firing the rule
    denied_flagged: np.ndarray
    denied_dollars: np.ndarray  # dollars denied on the flagged claims
    carc_match: np.ndarray  # share of denied flagged claims citing the rule's §7 family (NaN: none)
    effect: np.ndarray  # mean (risk - risk_if_fixed) over the flagged claims (NaN: none)
    effect_sum: np.ndarray  # the sums behind ``effect`` (for "every other payer")
    effect_n: np.ndarray  # flagged claims with an effect

    def lift(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return katz_interval(
            self.denied_flagged, self.flagged, self.denied[:, None] - self.denied_flagged,
            self.claims[:, None] - self.flagged,
        )

    def effect_elsewhere(self) -> np.ndarray:
        """(payers, rules): the rule's mean effect over the flagged claims of every other payer."""
        total, n = self.effect_sum.sum(axis=0), self.effect_n.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (total[None, :] - self.effect_sum) / (n[None, :] - self.effect_n)


def _per_cell(index: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(index, weights=weights, minlength=size)


def payer_rule_table(
    payer: np.ndarray,
    pairs: FlagPairs,
    rules: tuple[str, ...],
    y: np.ndarray,
    denied_dollars: np.ndarray,
    family_cited: np.ndarray,
    pair_effect: np.ndarray | None,
) -> PayerRuleTable:
    """The report's table. ``payer`` holds a payer id per claim; ``family_cited`` (pairs,) bool
    says whether the denied claim of each pair cites the family CONTRACT §7 expects for its rule;
    ``pair_effect`` (pairs,) the rule's effect on that claim (NaN where it was not scored)."""
    codes, names = pd.factorize(pd.Series(payer, dtype=object).fillna("(none)"), sort=True)
    n_payers, n_rules = len(names), len(rules)
    size = n_payers * n_rules
    cell = codes[pairs.claim] * n_rules + pairs.rule
    denied_pair = y[pairs.claim] == 1
    shape = (n_payers, n_rules)
    flagged = _per_cell(cell, None, size).reshape(shape)
    denied_flagged = _per_cell(cell[denied_pair], None, size).reshape(shape)
    dollars = _per_cell(cell, denied_dollars[pairs.claim], size).reshape(shape)
    cited = _per_cell(cell[denied_pair & family_cited], None, size).reshape(shape)
    effect = np.full(pairs.claim.shape[0], np.nan) if pair_effect is None else pair_effect
    scored = ~np.isnan(effect)
    effect_sum = _per_cell(cell[scored], effect[scored], size).reshape(shape)
    effect_n = _per_cell(cell[scored], None, size).reshape(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        carc = np.where(denied_flagged > 0, cited / denied_flagged, np.nan)
        mean_effect = np.where(effect_n > 0, effect_sum / effect_n, np.nan)
    return PayerRuleTable(
        payers=np.asarray(names, dtype=object),
        rules=rules,
        claims=np.bincount(codes, minlength=n_payers),
        denied=np.bincount(codes, weights=(y == 1).astype(np.float64), minlength=n_payers).astype(np.int64),
        flagged=flagged.astype(np.int64),
        denied_flagged=denied_flagged.astype(np.int64),
        denied_dollars=dollars,
        carc_match=carc,
        effect=mean_effect,
        effect_sum=effect_sum,
        effect_n=effect_n.astype(np.int64),
    )


def monthly_trend(payer: np.ndarray, submission_date: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Claims, denied claims and denial rate per payer and submission month (one groupby)."""
    frame = pd.DataFrame(
        {
            "payer_id": pd.Series(payer, dtype=object).fillna("(none)"),
            "month": submission_date.astype("datetime64[M]").astype(str),
            "denied": (np.asarray(y) == 1).astype(np.int64),
        }
    )
    out = frame.groupby(["payer_id", "month"], sort=True)["denied"].agg(["size", "sum"]).reset_index()
    out.columns = ["payer_id", "month", "claims", "denied"]
    out["denial_rate"] = out["denied"] / out["claims"]
    return out


@dataclass(frozen=True)
class Suggestion:
    """One policy change for one payer and rule, the YAML that makes it, and why."""

    payer_id: str
    rule: str
    change: str  # "relax" | "enforce"
    policy_key: str
    yaml_patch: str
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "payer_id": self.payer_id, "rule": self.rule, "change": self.change,
            "policy_key": self.policy_key, "yaml_patch": self.yaml_patch, "evidence": self.evidence,
        }


def suggest(table: PayerRuleTable, enforced: np.ndarray, policy_keys: dict[str, str]) -> list[Suggestion]:
    """Relax where the policy enforces the rule (``enforced`` (payers, rules) bool), it has at
    least MIN_FLAGGED flagged claims at the payer and its effect there is below RELAX_SHARE of its
    effect over every other payer; enforce where the policy does not enforce a rule whose effect at
    the payer (again on at least MIN_FLAGGED claims) is at least its effect elsewhere, and positive.
    Only rules a policy key switches (``policy_keys``: rule -> key) can be suggested."""
    elsewhere = table.effect_elsewhere()
    switchable = np.array([rule in policy_keys for rule in table.rules], dtype=bool)[None, :]
    enough = table.effect_n >= MIN_FLAGGED
    with np.errstate(invalid="ignore"):
        relax = switchable & enforced & enough & (table.effect < RELAX_SHARE * elsewhere)
        enforce = switchable & ~enforced & enough & (table.effect >= elsewhere) & (table.effect > 0)
    ratio, low, high = table.lift()
    out: list[Suggestion] = []
    for change, mask in (("relax", relax), ("enforce", enforce)):
        for p, r in zip(*np.nonzero(mask), strict=True):  # a handful of cells, never per claim
            payer_id, rule = str(table.payers[p]), table.rules[r]
            key = policy_keys[rule]
            evidence = {
                "flagged": int(table.flagged[p, r]),
                "effect": float(table.effect[p, r]),
                "effect_other_payers": float(elsewhere[p, r]),
                "lift": _num(ratio[p, r]),
                "lift_ci": [_num(low[p, r]), _num(high[p, r])],
                "denied_dollars": float(table.denied_dollars[p, r]),
                "policy_enforces": bool(enforced[p, r]),
            }
            value = "false" if change == "relax" else "true"
            patch = f"# features/policies/{payer_id}.yaml (or $CLAIMRISK_POLICY_DIR/{payer_id}.yaml)\n{key}: {value}\n"
            out.append(Suggestion(payer_id, rule, change, key, patch, evidence))
    return out


def _num(value: float) -> float | None:
    """JSON has no NaN: a missing number is null."""
    return None if value != value else float(value)


def table_json(table: PayerRuleTable) -> dict[str, Any]:
    """``payers`` of payers.json: per payer its claims and denial rate, and per rule that fired
    there the flagged count, both denial rates, lift and interval, effect, dollars and carc_match."""
    ratio, low, high = table.lift()
    unflagged = table.claims[:, None] - table.flagged
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_flagged = table.denied_flagged / table.flagged
        rate_unflagged = (table.denied[:, None] - table.denied_flagged) / unflagged
    out: dict[str, Any] = {}
    for p, payer_id in enumerate(table.payers.tolist()):  # payers x fired rules: small
        rules = {}
        for r in np.flatnonzero(table.flagged[p] > 0).tolist():
            rules[table.rules[r]] = {
                "flagged": int(table.flagged[p, r]),
                "denial_rate_flagged": _num(rate_flagged[p, r]),
                "denial_rate_unflagged": _num(rate_unflagged[p, r]),
                "lift": _num(ratio[p, r]),
                "lift_ci": [_num(low[p, r]), _num(high[p, r])],
                "effect": _num(table.effect[p, r]),
                "denied_dollars": float(table.denied_dollars[p, r]),
                "carc_match": _num(table.carc_match[p, r]),
            }
        claims = int(table.claims[p])
        out[str(payer_id)] = {
            "claims": claims,
            "denial_rate": float(table.denied[p] / claims) if claims else None,
            "rules": rules,
        }
    return out


# Rules a boolean policy key switches on or off per payer (features.payer_policy.Policy): the only
# rules a policy change can relax or enforce. The other rules are coding facts every payer shares.
RULE_POLICY_KEYS: dict[str, str] = {
    "NOC_UNITS_NOT_ONE": "noc_units_one",
    "INVOICE_MISSING": "invoice_required",
    "DOCUMENTATION_MISSING": "documentation_required",
    "PRIOR_AUTH_MISSING": "prior_auth_required",
    "WASTE_MODIFIER_MISSING": "waste_modifier_required",
    "UNITS_EXCEED_MUE": "mue",
}


def enforced_by_policy(policies: Any, payer_ids: np.ndarray, payer_types: np.ndarray, rules: tuple[str, ...]) -> np.ndarray:
    """(payers, rules) bool: does the payer's resolved policy (payer id -> payer type -> default,
    ``features.payer_policy.PolicySet``) switch the rule on? Rules no key switches count as enforced."""
    out = np.ones((payer_ids.shape[0], len(rules)), dtype=bool)
    for p, (payer_id, payer_type) in enumerate(zip(payer_ids.tolist(), payer_types.tolist(), strict=True)):
        policy = policies.policy_for(payer_id, payer_type)  # one per payer: a few dozen
        for r, rule in enumerate(rules):
            key = RULE_POLICY_KEYS.get(rule)
            if key is not None:
                out[p, r] = bool(getattr(policy, key))
    return out
