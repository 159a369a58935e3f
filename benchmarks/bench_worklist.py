"""The worklist store: import throughput and queue-page latency, on SQLite and PostgreSQL.

Targets (issue 19): importing a 100,000-claim JSONL file into an empty SQLite store >= 20,000
claims/s timed over the whole process (start-up and model load included); the first queue page of
50 with any one filter p95 <= 50 ms at 100,000 claims on SQLite; the PostgreSQL figure stated.
The import runs in a fresh process (``python -c``) so start-up and model load are in the figure; it
calls the service (``worklist.importing.import_path``) the CLI will wrap. The model is the saved
fixture model (``tests/data/models/pre-wave2.joblib``) unless ``BENCH_WORKLIST_MODELS_DIR`` names a
promoted export. Wall and CPU seconds are both reported: the machine is shared.
Run: ``.venv/bin/python -m benchmarks.bench_worklist`` (``CI=true``: 5,000 claims).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CI = os.environ.get("CI", "").lower() == "true"
N_CLAIMS = 5_000 if CI else 100_000
PAGE_REPEATS = 20 if CI else 60
FIXTURE_MODEL = Path(__file__).resolve().parents[1] / "tests" / "data" / "models" / "pre-wave2.joblib"

IMPORT_SNIPPET = """
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
from worklist.db import open_store
from worklist.importing import import_path
from worklist.users import add_user
from serving.scorer import Scorer, load_rule_context
models = sys.argv[3]
if models.endswith('.joblib'):
    import joblib
    model, meta = joblib.load(models), {'model_version': 'bench'}
else:
    from serving.model_store import load_export
    model, meta = load_export(Path(models))
scorer = Scorer(model, metadata=meta, context=load_rule_context())
t1 = time.perf_counter()
store = open_store(sys.argv[2])
with store.session() as session:
    user = add_user(session, None, 'bench', 'admin', None)
    report = import_path(session, Path(sys.argv[1]), scorer, user)
t2 = time.perf_counter()
cpu = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({'startup_and_model_s': t1 - t0, 'import_s': t2 - t1, 'total_s': t2 - t0,
                  'cpu_s': cpu.ru_utime + cpu.ru_stime, **report.counts()}))
"""


def _history(work: Path) -> Path:
    from synthetic.commands import synth

    out = work / "history"
    assert synth(n_claims=N_CLAIMS, seed=5, out=out, x12=False) == 0
    return out / "claims.jsonl"


def _model_path() -> str:
    return os.environ.get("BENCH_WORKLIST_MODELS_DIR") or str(FIXTURE_MODEL)


def bench_import(claims: Path, url: str) -> dict[str, Any]:
    """One whole-process import into an empty store; the process's own wall and CPU time."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_SNIPPET, str(claims), url, _model_path()],
        capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    process_s = time.perf_counter() - started
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = process_s
    result["claims_per_s"] = result["new"] / process_s
    return result


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
        "assignee": (QueueFilter(assignee="bench"), SortKey.EXPECTED_LOSS),
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
        actor = get_user(session, "bench")
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


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-worklist-") as tmp:
        work = Path(tmp)
        claims = _history(work)
        sqlite_url = f"sqlite:///{work / 'worklist.db'}"
        results: dict[str, Any] = {"claims": N_CLAIMS, "sqlite": {"import": bench_import(claims, sqlite_url)}}
        results["sqlite"]["pages"] = bench_pages(sqlite_url)
        try:
            from benchmarks.pg_cluster import PostgresMissing, create_database, pg_cluster

            with pg_cluster() as server:
                url = create_database(server, "bench")
                results["postgresql"] = {"import": bench_import(claims, url), "pages": bench_pages(url)}
        except PostgresMissing as exc:
            results["postgresql"] = {"skipped": str(exc)}
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
