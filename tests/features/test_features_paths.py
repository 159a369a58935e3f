"""The batch path and the single-claim path are the same code and give the same answers."""

from __future__ import annotations

from typing import Any

import numpy as np

from features.payer_policy import PolicySet
from features.rules.engine import evaluate
from reference.store import load_reference


def test_batch_equals_single_claim(kit: Any) -> None:
    claims = kit.random_claims(2500, seed=11)
    frame = kit.frame_of(*claims)
    policies, reference = PolicySet.load(), load_reference()
    batch = evaluate(frame, policies=policies, reference=reference).results()
    singles = [evaluate(frame.take([i]), policies=policies, reference=reference).for_claim(0) for i in range(len(claims))]
    assert batch == singles
    fired_ids = {r["id"] for rules in batch for r in rules}
    assert len(fired_ids) >= 18, sorted(fired_ids)  # the generator reaches nearly every rule


def test_order_and_subsets_do_not_matter(kit: Any) -> None:
    claims = kit.random_claims(400, seed=5)
    frame = kit.frame_of(*claims)
    policies, reference = PolicySet.load(), load_reference()
    full = evaluate(frame, policies=policies, reference=reference).results()
    order = np.random.default_rng(0).permutation(len(claims))
    shuffled = evaluate(frame.take(order), policies=policies, reference=reference).results()
    assert [full[i] for i in order.tolist()] == shuffled


def test_fired_arrays_match_results(kit: Any) -> None:
    claims = kit.random_claims(300, seed=3)
    fired = evaluate(kit.frame_of(*claims))
    results = fired.results()
    assert len(fired) == sum(len(r) for r in results)
    counts = fired.flag_counts()
    ids = list(fired.rule_ids)
    for i in (0, 7, 150):
        per_claim: dict[str, int] = {}
        for r in results[i]:
            per_claim[r["id"]] = per_claim.get(r["id"], 0) + 1
        from features.rules.catalog import RULE_IDS

        assert {rid: int(counts[i, k]) for k, rid in enumerate(RULE_IDS) if counts[i, k]} == per_claim
    assert set(ids) == {r["id"] for rs in results for r in rs}


def test_empty_frame(kit: Any) -> None:
    from claims.columnar import ClaimFrame

    fired = evaluate(ClaimFrame.empty())
    assert fired.results() == [] and len(fired) == 0
