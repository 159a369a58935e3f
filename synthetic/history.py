"""Writing a whole history batch by batch, so memory stays flat in the number of claims.

Batch ``b`` draws from ``SeedSequence([seed, 1, b])``; the batch size is fixed, so the same seed
gives byte-identical files on any machine. Batches are independent and are spread over worker
processes when there are many; the parent writes them in order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from reference.store import load_reference
from synthetic.adjudicate import adjudicate
from synthetic.generate import generate_batch
from synthetic.remits import adjudications_per_claim, build_remits, remit_status
from synthetic.serialize import claim_records, remit_records, truth_records
from synthetic.world import PolicyChange, World, build_world

BATCH_SIZE = 25_000
CLAIMS_FILE, REMITS_FILE, TRUTH_FILE = "claims.jsonl", "remits.jsonl", "truth.jsonl"
CLAIMS_X12, REMITS_X12 = "claims.837", "remits.835"


@dataclass
class Summary:
    n_claims: int = 0
    n_lines: int = 0
    n_remit_rows: int = 0
    n_denied: int = 0
    sum_p_deny: float = 0.0


def _dump(records: list[dict]) -> bytes:
    option = orjson.OPT_APPEND_NEWLINE
    return b"".join([orjson.dumps(record, option=option) for record in records])


def batch_bytes(
    world: World, index: int, start: int, n: int, sequence_offset: int
) -> tuple[bytes, bytes, bytes, tuple[int, int, int, float]]:
    """The three JSONL chunks of one batch, and its counts."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([world.seed, 1, index])))
    batch = generate_batch(world, rng, start, n)
    adj = adjudicate(world, batch, rng)
    remits = build_remits(world, batch, adj, rng, remit_status(world.seed, index, n))
    rows = remit_records(world, batch, remits, sequence_offset)
    counts = (batch.line_claim.size, len(rows), int(adj.denied.sum()), float(adj.p_deny.sum()))
    return (
        _dump(claim_records(world, batch)), _dump(rows), _dump(truth_records(batch, adj, remits)), counts
    )


_WORKER_WORLD: World | None = None


def _init_worker(seed: int, policy_change: PolicyChange | None) -> None:
    global _WORKER_WORLD
    _WORKER_WORLD = build_world(seed, load_reference(), policy_change)


def _worker_batch(args: tuple[int, int, int, int]) -> tuple[bytes, bytes, bytes, tuple[int, int, int, float]]:
    assert _WORKER_WORLD is not None
    return batch_bytes(_WORKER_WORLD, *args)


def _plan(seed: int, n_claims: int) -> list[tuple[int, int, int, int]]:
    """(batch index, first claim, claim count, remittance sequence offset) per batch."""
    plan = []
    offset = 0
    for b, start in enumerate(range(0, n_claims, BATCH_SIZE)):
        n = min(BATCH_SIZE, n_claims - start)
        plan.append((b, start, n, offset))
        offset += int(adjudications_per_claim(remit_status(seed, b, n)).sum())
    return plan


def _chunks(
    seed: int, n_claims: int, workers: int, policy_change: PolicyChange | None = None
) -> Iterator[tuple[bytes, bytes, bytes, tuple[int, int, int, float]]]:
    plan = _plan(seed, n_claims)
    if workers <= 1 or len(plan) <= 1:
        world = build_world(seed, load_reference(), policy_change)
        for args in plan:
            yield batch_bytes(world, *args)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(seed, policy_change)) as pool:
        # map keeps order; at most a few batches are in flight, so memory stays bounded
        pending = []
        for args in plan:
            pending.append(pool.submit(_worker_batch, args))
            if len(pending) > workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def write_history(
    seed: int, n_claims: int, out: Path, *, workers: int | None = None, policy_change: PolicyChange | None = None
) -> Summary:
    """Write claims.jsonl, remits.jsonl and truth.jsonl for ``n_claims`` claims into ``out``
    (``policy_change``: which payer changes its policy when; ``None`` is the catalog's change)."""
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    workers = default_workers() if workers is None else workers
    with (
        open(out / CLAIMS_FILE, "wb") as claims_file,
        open(out / REMITS_FILE, "wb") as remits_file,
        open(out / TRUTH_FILE, "wb") as truth_file,
    ):
        for claims, rows, truth, (n_lines, n_rows, n_denied, sum_p) in _chunks(seed, n_claims, workers, policy_change):
            claims_file.write(claims)
            remits_file.write(rows)
            truth_file.write(truth)
            summary.n_lines += n_lines
            summary.n_remit_rows += n_rows
            summary.n_denied += n_denied
            summary.sum_p_deny += sum_p
    summary.n_claims = n_claims
    return summary
