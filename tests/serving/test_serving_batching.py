"""Opportunistic batching of /v1/score: concurrent requests share a model call, answers do not change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from claims.columnar import from_claims
from claims.model import Claim
from serving.batching import FLUSH_TURNS, ScoreBatcher, score_claims
from serving.config import Settings
from serving.model_store import ModelStore
from serving.scorer import Scorer, load_rule_context


@pytest.fixture(scope="module")
def scorer(models_dir: Path) -> Scorer:
    return ModelStore(Settings(models_dir=models_dir), load_rule_context()).load()


@pytest.fixture(scope="module")
def claims(history_dir: Path) -> list[Claim]:
    # the history's claims as the API validates a request body
    lines = (history_dir / "claims.jsonl").read_bytes().splitlines()[:40]
    assert len(lines) == 40
    return [Claim.model_validate_json(line) for line in lines]


def _alone(scorer: Scorer, claim: Claim, threshold: float | None) -> dict[str, Any]:
    return scorer.score(from_claims([claim]), threshold)[0]


def test_concurrent_requests_share_one_model_call_and_get_their_own_answers(
    scorer: Scorer, claims: list[Claim]
) -> None:
    batcher = ScoreBatcher()

    async def burst() -> list[Any]:
        return await asyncio.gather(*(batcher.score(scorer, c, None) for c in claims[:24]))

    results = asyncio.run(burst())
    assert batcher.batches == 1 and batcher.claims == 24
    for claim, result in zip(claims[:24], results, strict=True):
        alone = _alone(scorer, claim, None)
        assert result.answer["claim_id"] == claim.claim_id
        assert result.answer["risk"] == pytest.approx(alone["risk"], abs=1e-12)
        assert [(r["id"], r["line_number"]) for r in result.answer["rules"]] == [
            (r["id"], r["line_number"]) for r in alone["rules"]
        ]
        assert [r["risk_if_fixed"] for r in result.answer["rules"]] == pytest.approx(
            [r["risk_if_fixed"] for r in alone["rules"]], abs=1e-12
        )
        assert result.risk == result.answer["risk"]
        assert result.review == (result.answer["decision"] == "review")


def test_a_request_alone_is_scored_without_waiting_for_others(scorer: Scorer, claims: list[Claim]) -> None:
    batcher = ScoreBatcher()

    async def one_by_one() -> list[Any]:
        return [await batcher.score(scorer, c, None) for c in claims[:3]]

    results = asyncio.run(one_by_one())
    assert batcher.batches == 3 and len(results) == 3


@pytest.mark.parametrize(("flush_turns", "calls"), [(1, 2), (FLUSH_TURNS, 1)])
def test_a_request_read_a_turn_later_joins_the_call(
    scorer: Scorer, claims: list[Claim], flush_turns: int, calls: int
) -> None:
    """The call waits ``flush_turns`` loop turns: a request that reaches the batcher one turn after
    the first (read on the next poll of the sockets) shares its model call; with one turn it would not."""
    batcher = ScoreBatcher(flush_turns=flush_turns)

    async def staggered() -> list[Any]:
        first = asyncio.ensure_future(batcher.score(scorer, claims[0], None))
        await asyncio.sleep(0)  # the first request reaches the batcher on this turn
        second = asyncio.ensure_future(batcher.score(scorer, claims[1], None))
        return await asyncio.gather(first, second)

    results = asyncio.run(staggered())
    assert batcher.batches == calls and batcher.claims == 2
    assert [r.answer["claim_id"] for r in results] == [claims[0].claim_id, claims[1].claim_id]


def test_thresholds_and_models_are_never_mixed_in_a_call(scorer: Scorer, claims: list[Claim]) -> None:
    batcher = ScoreBatcher()
    thresholds = [0.0, 1.0, None] * 4

    async def burst() -> list[Any]:
        return await asyncio.gather(*(batcher.score(scorer, c, t) for c, t in zip(claims, thresholds, strict=False)))

    results = asyncio.run(burst())
    assert batcher.batches == 3
    for result, t in zip(results, thresholds, strict=False):
        expected = scorer.threshold if t is None else t
        assert result.answer["threshold"] == expected
        assert result.answer["decision"] == ("review" if result.risk >= expected else "pass")


def test_more_waiting_claims_than_a_batch_go_to_the_next_call(scorer: Scorer, claims: list[Claim]) -> None:
    batcher = ScoreBatcher(max_batch=16)

    async def burst() -> list[Any]:
        return await asyncio.gather(*(batcher.score(scorer, c, None) for c in claims[:40]))

    results = asyncio.run(burst())
    assert batcher.batches == 3 and batcher.claims == 40
    assert [r.answer["claim_id"] for r in results] == [c.claim_id for c in claims[:40]]


def test_a_failing_claim_fails_only_its_own_request(
    scorer: Scorer, claims: list[Claim], monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = claims[5].claim_id
    real = Scorer.score_arrays

    def score_arrays(self: Scorer, frame: Any, threshold: float | None, **options: bool) -> Any:
        if poisoned in frame.claim_ids.tolist():
            raise RuntimeError("scoring failed")
        return real(self, frame, threshold, **options)

    monkeypatch.setattr(Scorer, "score_arrays", score_arrays)
    batcher = ScoreBatcher()

    async def burst() -> list[Any]:
        return await asyncio.gather(*(batcher.score(scorer, c, None) for c in claims[:8]), return_exceptions=True)

    results = asyncio.run(burst())
    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [5]
    assert all(r.answer["claim_id"] == claims[i].claim_id for i, r in enumerate(results) if i != 5)


def test_score_claims_equals_the_scorer_on_one_frame(scorer: Scorer, claims: list[Claim]) -> None:
    together, _ = score_claims(scorer, claims[:10], None)
    frame_answers = scorer.score(from_claims(claims[:10]), None)
    assert [r.answer for r in together] == frame_answers
    assert np.allclose([r.risk for r in together], [a["risk"] for a in frame_answers])
