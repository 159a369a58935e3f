"""The worklist store: import throughput and queue-page latency, on SQLite and PostgreSQL.

Targets (issue 19): importing a 100,000-claim JSONL file into an empty SQLite store >= 20,000
claims/s timed over the whole process (start-up and model load included); the first queue page of
50 with any one filter p95 <= 50 ms at 100,000 claims on SQLite; the PostgreSQL figure stated;
a what-if re-score of one claim p95 <= 20 ms through the API.
The import is the command itself, ``claimrisk queue import --input FILE``, run in a fresh process
(its own start-up, model load, migrations of the empty store, forked readers) IMPORT_RUNS times
into a new empty store each time; the median is reported with the process's wall and CPU seconds
(its own and its workers'): the machine is shared, so wall time alone says little. The model is
the saved fixture model (``tests/data/models/pre-wave2.joblib``) exported as a promotion exports
it, unless ``BENCH_WORKLIST_MODELS_DIR`` names a promoted export. Pages are timed on the last store.
The what-if is ``POST /v1/queue/claims/{id}/what-if`` against ``claimrisk serve`` (a real uvicorn,
one worker) on that store, WHATIF_CALLS sequential calls with a biller's personal token over one
keep-alive connection, each a different claim with one edit; p50 and p95 of the client's time.
Run: ``.venv/bin/python -m benchmarks.bench_worklist`` (``CI=true``: 5,000 claims, one run).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CI = os.environ.get("CI", "").lower() == "true"
N_CLAIMS = 5_000 if CI else 100_000
PAGE_REPEATS = 20 if CI else 60
IMPORT_RUNS = 1 if CI else 3
WHATIF_CALLS = 50 if CI else 200
WHATIF_EDITS = {"lines.0.units": 2}  # a plausible biller's fix: the first line's units
FIXTURE_MODEL = Path(__file__).resolve().parents[1] / "tests" / "data" / "models" / "pre-wave2.joblib"
CLI_ACTOR = "claimrisk-cli"  # serving.queue_commands.CLI_ACTOR: who the command imports as


def _history(work: Path) -> Path:
    from synthetic.commands import synth

    out = work / "history"
    assert synth(n_claims=N_CLAIMS, seed=5, out=out, x12=False) == 0
    return out / "claims.jsonl"


def _models_dir(work: Path) -> Path:
    """The promoted export to score with: ``BENCH_WORKLIST_MODELS_DIR``, else the fixture model."""
    given = os.environ.get("BENCH_WORKLIST_MODELS_DIR")
    if given:
        return Path(given)
    folder = work / "bench-models"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE_MODEL, folder / "claimrisk.joblib")
    digest = hashlib.sha256((folder / "claimrisk.joblib").read_bytes()).hexdigest()
    (folder / "claimrisk.json").write_text(json.dumps({"model_version": "bench", "sha256": digest}))
    return folder


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def import_once(claims: Path, url: str, models: Path) -> dict[str, Any]:
    """One ``claimrisk queue import`` into the empty store at ``url``: wall and CPU of the process."""
    env = {**os.environ, "CLAIMRISK_MODELS_DIR": str(models), "CLAIMRISK_DATABASE_URL": url, "OMP_NUM_THREADS": "1"}
    os.sync()  # the history's and earlier runs' writes are written back before, not during, this run
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "claimrisk", "queue", "import", "--input", str(claims)],
        capture_output=True, text=True, env=env,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"claimrisk queue import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    summary = proc.stderr.strip().splitlines()[-1]
    new = int(summary.split(" new,")[0].rsplit(" ", 1)[-1])
    return {"wall_s": wall, "cpu_s": _children_cpu() - cpu_before, "new": new, "claims_per_s": new / wall,
            "claims_per_cpu_s": new / max(_children_cpu() - cpu_before, 1e-9)}


def bench_import(claims: Path, url: str, fresh_url: Callable[[int], str] | None = None) -> dict[str, Any]:
    """Median of IMPORT_RUNS whole-process imports, each into an empty store (``fresh_url(run)``;
    the last run imports into ``url``, which the page benchmark then reads); one run without
    ``fresh_url``."""
    count = IMPORT_RUNS if fresh_url is not None else 1
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        models = _models_dir(Path(tmp))
        urls = [fresh_url(k) for k in range(count - 1)] if fresh_url is not None else []
        runs = [import_once(claims, target, models) for target in [*urls, url]]
    out: dict[str, Any] = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    out["runs"] = runs
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _page_cases(session: Any, actor: Any) -> dict[str, Any]:
    from worklist.queue import QueueFilter, SortKey, list_queue

    first = list_queue(session, actor, limit=1).rows[0]
    day = first.submission_date
    cases: dict[str, Any] = {f"sort:{s.value}": (QueueFilter(), s) for s in SortKey}
    cases.update({
        "payer": (QueueFilter(payer_id=first.payer_id), SortKey.EXPECTED_LOSS),
        "rule": (QueueFilter(rule_id="NDC_MISSING"), SortKey.EXPECTED_LOSS),
        "rare_rule": (QueueFilter(rule_id="NOC_CODE_SETTING"), SortKey.EXPECTED_LOSS),
        "decision": (QueueFilter(decision="review"), SortKey.EXPECTED_LOSS),
        "status": (QueueFilter(status="new"), SortKey.EXPECTED_LOSS),
        "assignee": (QueueFilter(assignee=CLI_ACTOR), SortKey.EXPECTED_LOSS),
        "submitted": (QueueFilter(submitted_from=day, submitted_to=day), SortKey.EXPECTED_LOSS),
        "search": (QueueFilter(claim_id=first.claim_id[:-2]), SortKey.EXPECTED_LOSS),
    })
    return cases


def bench_pages(url: str) -> dict[str, Any]:
    """p50/p95 ms of the first page of 50 per filter (and of the totals query, reported apart)."""
    from worklist.db import open_store
    from worklist.queue import list_queue, queue_totals
    from worklist.users import get_user

    store = open_store(url)
    out: dict[str, Any] = {}
    with store.session() as session:
        actor = get_user(session, CLI_ACTOR)
        for name, (where, sort) in _page_cases(session, actor).items():
            times = []
            for _ in range(PAGE_REPEATS):
                started = time.perf_counter()
                list_queue(session, actor, where, sort=sort, limit=50)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out[name] = {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}
        times = []
        for _ in range(max(5, PAGE_REPEATS // 6)):
            started = time.perf_counter()
            queue_totals(session, actor)
            times.append((time.perf_counter() - started) * 1000)
        out["totals_unfiltered"] = {"p50_ms": statistics.median(times)}
    store.dispose()
    out["worst_page_p95_ms"] = max(v["p95_ms"] for k, v in out.items() if "p95_ms" in v)
    return out


def bench_what_if(url: str, claim_ids: list[str]) -> dict[str, Any]:
    """p50/p95 ms of the what-if route through a real server on the store at ``url``."""
    import httpx

    from benchmarks.web_setup import start_web_server
    from worklist.db import open_store
    from worklist.users import add_user, issue_token

    store = open_store(url)
    with store.session() as session:
        add_user(session, None, "bench-biller", "biller", None)
        token = issue_token(session, None, "bench-biller")
    store.dispose()
    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp:
        server = start_web_server(_models_dir(Path(tmp)), url, Path(tmp) / "server.log")
        try:
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                times = []
                for k, claim_id in enumerate(claim_ids[: WHATIF_CALLS + 10]):
                    started = time.perf_counter()
                    answer = client.post(f"/v1/queue/claims/{claim_id}/what-if", json={"edits": WHATIF_EDITS})
                    elapsed = (time.perf_counter() - started) * 1000
                    if answer.status_code != 200:
                        raise RuntimeError(f"what-if answered {answer.status_code}: {answer.text[:500]}")
                    if k >= 10:  # the first calls warm the server's caches
                        times.append(elapsed)
        finally:
            server.stop()
    times.sort()
    return {"calls": len(times), "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


def _some_claim_ids(claims: Path, n: int) -> list[str]:
    """Claim ids spread over the file (every k-th record), in file order."""
    with claims.open("rb") as lines:
        ids = [json.loads(line)["claim_id"] for line in itertools.islice(lines, 0, None, max(1, N_CLAIMS // n))]
    return ids[:n]


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-worklist-") as tmp:
        work = Path(tmp)
        claims = _history(work)
        sqlite_url = f"sqlite:///{work / 'worklist.db'}"
        imported = bench_import(claims, sqlite_url, lambda k: f"sqlite:///{work / f'worklist-run{k}.db'}")
        results: dict[str, Any] = {"claims": N_CLAIMS, "sqlite": {"import": imported}}
        results["sqlite"]["pages"] = bench_pages(sqlite_url)
        results["sqlite"]["what_if"] = bench_what_if(sqlite_url, _some_claim_ids(claims, WHATIF_CALLS + 10))
        try:
            from benchmarks.pg_cluster import PostgresMissing, create_database, pg_cluster

            with pg_cluster() as server:
                url = create_database(server, "bench")
                fresh = lambda k: create_database(server, f"bench_run{k}")  # noqa: E731
                results["postgresql"] = {"import": bench_import(claims, url, fresh), "pages": bench_pages(url)}
        except PostgresMissing as exc:
            results["postgresql"] = {"skipped": str(exc)}
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
