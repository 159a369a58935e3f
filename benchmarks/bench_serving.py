"""Serving benchmark: the API under load on loopback, the batch endpoint, the worklist, and the peer.

One run measures, on the same machine and in the same session (ratios are what to compare):

* ``GET /healthz`` req/s: the bare framework, for scale;
* ``POST /v1/score``, one claim per request, 8 concurrent connections: req/s, p50, p99 (full
  answer: rules and risk_if_fixed);
* ``POST /v1/score/batch`` with 1,000 claims, 2 connections per worker: claims/s;
* ``claimrisk score`` (the worklist) on 200,000 claims (CI: 20,000): claims/s after the model is loaded;
* the peer: ``mlflow models serve --env-manager local`` on the same registered model, single-row
  requests with 8 connections and 1,000-row requests with 2 connections per worker, so that per-claim rates
  compare both ways (skipped under CI=true);
* CPU time per request, in process (the app called as ASGI, no network) and over HTTP (CPU used
  by the server's processes during each load run / requests served): unlike req/s, these move
  little when other jobs share the machine.

The server is ``python -m claimrisk serve --workers N`` (OMP_NUM_THREADS=1); N comes from env
``BENCH_SERVING_WORKERS`` (a comma list runs each, the last is the headline), by default the usable
cores, which is also the server's own default. The load generator is wrk when installed
(``apt-get install -y wrk``, which ``make system-deps`` does), otherwise a raw-socket asyncio
generator in its own process; the figures say which one ran. Both share the 2 cores with the
server, the Python one taking ~0.1 ms of CPU per request from it.

The model is the one the benchmark trains on its synthetic history, unless
``BENCH_SERVING_MODELS_DIR`` names a promoted export (a folder with ``claimrisk.joblib`` and
``claimrisk.json``): then that model is served, which is how two versions of the code are compared
on the same model (``tests/data/models/pre-wave2.joblib`` loads in every version since it was saved).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out" / "serving"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPEATS = 3
DURATION = 3 if CI else 10
WORKLIST_CLAIMS = 20_000 if CI else 200_000
HISTORY_CLAIMS = 1500 if CI else 4000
TARGETS = {"score_rps": 800, "score_p99_ms": 25, "batch_claims_per_s": 20_000, "worklist_claims_per_s": 100_000}
BATCH = 1000


def worker_counts() -> list[int]:
    from serving.config import usable_cores

    raw = os.environ.get("BENCH_SERVING_WORKERS", "")
    return [int(x) for x in raw.split(",") if x.strip()] or [usable_cores()]


# -- set-up: a trained, registered, exported model ------------------------------------------------


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    env.update(extra or {})
    return env


def prepare_model(work: Path) -> tuple[Path, Path, str]:
    """(models dir, claims.jsonl, tracking uri): synthesise a history and train on it, once per output folder."""
    history = work / "history"
    models = work / "models"
    tracking = f"sqlite:///{work / 'mlruns' / 'mlflow.db'}"
    (work / "mlruns").mkdir(parents=True, exist_ok=True)
    env = _env({"MLFLOW_TRACKING_URI": tracking})
    if not (history / "claims.jsonl").is_file():
        subprocess.run([sys.executable, "-m", "claimrisk", "synth", "--claims", str(HISTORY_CLAIMS), "--seed", "5",
                        "--out", str(history)], check=True, env=env, capture_output=True)
    if not (models / "claimrisk.json").is_file() or not export_scores(models, history / "claims.jsonl"):
        shutil.rmtree(models, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "claimrisk", "train", "--claims", str(history / "claims.jsonl"),
                        "--remits", str(history / "remits.jsonl"), "--promote", "--models-dir", str(models)],
                       check=True, env=env, capture_output=True)
    return models, history / "claims.jsonl", tracking


def export_scores(models: Path, claims_file: Path) -> bool:
    """False when the export cannot score with the code as it is now (trained by older features)."""
    from claims.columnar import from_claims
    from claims.model import Claim
    from serving.config import Settings
    from serving.model_store import ModelStore
    from serving.scorer import load_rule_context

    try:
        scorer = ModelStore(Settings(models_dir=models), load_rule_context()).load()
        with claims_file.open("rb") as lines:
            claim = Claim.model_validate_json(lines.readline())
        scorer.score(from_claims([claim]))
    except Exception:  # whatever broke, a model trained by the current code will not
        return False
    return True


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats.get(current, (0, 0.0))[1]
        todo.extend(child for child, (parent, _) in stats.items() if parent == current)
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {seconds} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# -- load generators -------------------------------------------------------------------------------

_WRK_LUA = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
"""


def _wrk_ms(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}%?\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def run_wrk(url: str, connections: int, seconds: int, body: Path | None, work: Path) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if body is not None:
        script = work / f"post_{body.stem}.lua"
        script.write_text(_WRK_LUA.format(method="POST", body=body))
        command += ["-s", str(script)]
    text = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return {"rps": rps, "p50_ms": _wrk_ms(text, "50"), "p99_ms": _wrk_ms(text, "99"),
            "non_2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": float(bool(errors))}


_PY_LOADGEN = r'''
import asyncio, json, sys, time
host, port, path, body_file, conns, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
body = open(body_file, "rb").read() if body_file != "-" else b""
method = b"POST" if body_file != "-" else b"GET"
req = (method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
       + str(len(body)).encode() + b"\r\n\r\n" + body)
lat, bad = [], 0
async def one(deadline):
    global bad
    r, w = await asyncio.open_connection(host, port)
    while time.perf_counter() < deadline:
        t = time.perf_counter(); w.write(req)
        head = await r.readuntil(b"\r\n\r\n")
        status = int(head[9:12]); n = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:": n = int(line[15:])
        await r.readexactly(n); lat.append(time.perf_counter() - t)
        if status >= 300: bad += 1
    w.close()
async def main():
    start = time.perf_counter(); deadline = start + seconds
    await asyncio.gather(*(one(deadline) for _ in range(conns)))
    return time.perf_counter() - start
try:
    import uvloop; uvloop.install()
except ImportError:
    pass
elapsed = asyncio.run(main()); lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(json.dumps({"rps": len(lat) / elapsed, "p50_ms": q(0.5), "p99_ms": q(0.99), "non_2xx": bad, "socket_errors": 0}))
'''


def run_python_loadgen(url: str, connections: int, seconds: int, body: Path | None, work: Path) -> dict[str, float]:
    match = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    assert match
    script = work / "loadgen.py"
    script.write_text(_PY_LOADGEN)
    out = subprocess.run([sys.executable, str(script), match.group(1), match.group(2), match.group(3),
                          str(body) if body else "-", str(connections), str(seconds)],
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def load(
    url: str, connections: int, seconds: int, body: Path | None, work: Path, server_pid: int | None = None
) -> dict[str, float]:
    """One load run; with ``server_pid``, also the server's CPU ms per request during the run."""
    before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    if shutil.which("wrk"):
        result = run_wrk(url, connections, seconds, body, work)
    else:
        result = run_python_loadgen(url, connections, seconds, body, work)
    if server_pid:
        served = max(result["rps"] * seconds, 1.0)
        result["server_cpu_ms"] = round((tree_cpu_seconds(server_pid) - before) * 1000 / served, 3)
    return result


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median of each figure over the runs; failed responses and socket errors are summed instead,
    so one bad run shows (a server answering errors fast would otherwise look fast)."""
    return {key: round(sum(r[key] for r in runs) if key in _SUMMED else statistics.median(r[key] for r in runs), 2)
            for key in runs[0]}


_SUMMED = ("non_2xx", "socket_errors")


def _failures(run: dict[str, float]) -> str:
    """"" when every response of the runs was a 2xx, else what went wrong, for the table."""
    parts = [f"{run.get('non_2xx', 0):,.0f} non-2xx" if run.get("non_2xx") else "",
             "socket errors" if run.get("socket_errors") else ""]
    found = ", ".join(p for p in parts if p)
    return f"; FAILED RESPONSES: {found}" if found else ""


# -- measurements -----------------------------------------------------------------------------------


def batch_connections(workers: int) -> int:
    """Two batch connections per worker: SO_REUSEPORT spreads connections over workers by hash, so
    with one connection per worker both land on the same worker about half the time and the other
    core idles; two per worker keep every worker busy in nearly every run."""
    return 2 * workers


def bench_api(models: Path, claims_file: Path, work: Path, workers: int) -> dict[str, Any]:
    lines = claims_file.read_text().splitlines()
    single = work / "claim.json"
    single.write_bytes(lines[0].encode())
    batch = work / "batch.json"
    batch.write_bytes(orjson.dumps({"claims": [orjson.loads(x) for x in (lines * 2)[:BATCH]]}))
    port = free_port()
    log = (work / f"server_{workers}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "claimrisk", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=_env({"CLAIMRISK_MODELS_DIR": str(models), "CLAIMRISK_RELOAD_POLL_SECONDS": "0"}),
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    pid = process.pid
    try:
        wait_ready(f"{base}/readyz", process)
        load(f"{base}/v1/score", 8, 1, single, work)  # warm-up
        health, score, batch_runs = [], [], []
        for _ in range(REPEATS):  # interleaved, so drift hits every endpoint alike
            health.append(load(f"{base}/healthz", 8, DURATION, None, work, pid))
            score.append(load(f"{base}/v1/score", 8, DURATION, single, work, pid))
            batch_runs.append(load(f"{base}/v1/score/batch", batch_connections(workers), DURATION, batch, work, pid))
        score_batches = _score_batch_sizes(base)
    finally:
        stop(process)
    h, s, b = medians(health), medians(score), medians(batch_runs)
    return {
        "workers": workers,
        "healthz": h,
        "score": s,
        "score_vs_healthz": round(s["rps"] / h["rps"], 3),
        "score_claims_per_model_call": score_batches,
        "batch": {**b, "claims_per_s": round(b["rps"] * BATCH, 0)},
        "runs": {"healthz_rps": [r["rps"] for r in health], "score_rps": [r["rps"] for r in score],
                 "batch_rps": [r["rps"] for r in batch_runs]},
    }


def bench_in_process(models: Path, claims_file: Path) -> dict[str, float]:
    """CPU µs per call with the app called directly as ASGI (no HTTP, no load generator), and the
    steps of scoring one claim; thread CPU time, so other jobs on the machine count far less."""
    import asyncio

    import numpy as np

    from claims.columnar import from_claims
    from serving.app import create_app
    from serving.config import Settings
    from serving.parsing import parse_claim

    lines = claims_file.read_text().splitlines()
    single = lines[0].encode()
    batch = orjson.dumps({"claims": [orjson.loads(x) for x in (lines * 2)[:BATCH]]})
    app = create_app(Settings(models_dir=models, reload_poll_seconds=0, access_log=False))
    count = 200 if CI else 1000

    async def call(path: str, body: bytes) -> None:
        pending = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST" if body else "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                 "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())]}
        await app(scope, receive, send)
        assert status == [200], status

    def cpu_us(runs: list[float], n: int) -> float:
        return round(statistics.median(runs) / n * 1e6, 1)

    async def per_call(path: str, body: bytes, n: int) -> float:
        for _ in range(max(n // 10, 2)):
            await call(path, body)
        runs = []
        for _ in range(REPEATS):
            started = time.thread_time()
            for _ in range(n):
                await call(path, body)
            runs.append(time.thread_time() - started)
        return cpu_us(runs, n)

    def per_step(step: Any, n: int) -> float:
        for _ in range(n // 10):
            step()
        runs = []
        for _ in range(REPEATS):
            started = time.thread_time()
            for _ in range(n):
                step()
            runs.append(time.thread_time() - started)
        return cpu_us(runs, n)

    async def run() -> dict[str, float]:
        async with app.router.lifespan_context(app):
            scorer = app.state.store.require_model()
            model = scorer.model
            claim = parse_claim(single)
            frame = from_claims([claim])
            X, fired = model.featurize(frame)
            rows = np.concatenate([X, scorer._fix_variants(np.asarray(X), fired).variants])
            arrays = scorer.score_arrays(frame, None, with_fixes=True)
            return {
                "healthz_us": await per_call("/healthz", b"", count),
                "score_us": await per_call("/v1/score", single, count),
                "batch_1000_ms": round(await per_call("/v1/score/batch", batch, 3 if CI else 10) / 1000, 2),
                "step_parse_us": per_step(lambda: parse_claim(single), count),
                "step_from_claims_us": per_step(lambda: from_claims([claim]), count),
                "step_featurize_us": per_step(lambda: model.featurize(frame), count),
                "step_predict_us": per_step(lambda: model.predict_from_features(rows), count),
                "step_answers_us": per_step(lambda: scorer.answers(arrays), count),
                "predict_rows": float(rows.shape[0]),
            }

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # as in the server (``claimrisk serve`` sets OMP_NUM_THREADS=1)
        return asyncio.run(run())


def make_worklist_input(claims_file: Path, n: int, work: Path) -> Path:
    target = work / f"worklist_{n}.jsonl"
    if target.is_file():
        return target
    source = [orjson.loads(x) for x in claims_file.read_text().splitlines()]
    with target.open("wb") as out:
        for i in range(n):
            claim = source[i % len(source)]
            claim["claim_id"] = f"W{i:09d}"
            out.write(orjson.dumps(claim) + b"\n")
    return target


def bench_worklist(models: Path, claims_file: Path, work: Path) -> dict[str, Any]:
    """In process, after the model is loaded: read, then featurize + score + rank, then write."""
    from inputs.sources import load_claims
    from serving.config import Settings
    from serving.model_store import ModelStore
    from serving.scorer import load_rule_context
    from serving.worklist import WORKERS_ENV, build_worklist, score_file, write_worklist

    source = make_worklist_input(claims_file, WORKLIST_CLAIMS, work)
    scorer = ModelStore(Settings(models_dir=models), load_rule_context()).load()
    totals, after_read, steps, in_parts = [], [], [], []
    for _ in range(REPEATS):
        # what `claimrisk score` runs: a large file is read and scored in parts by forked workers
        started = time.perf_counter()
        table, _errors = score_file(scorer, source)
        write_worklist(table, work / "worklist_parts.parquet")
        in_parts.append(WORKLIST_CLAIMS / (time.perf_counter() - started))
        assert table.num_rows == WORKLIST_CLAIMS
        # one process, step by step
        started = time.perf_counter()
        frame = load_claims(source).frame
        read = time.perf_counter()
        table = build_worklist(scorer, frame)
        scored = time.perf_counter()
        write_worklist(table, work / "worklist.parquet")
        done = time.perf_counter()
        assert table.num_rows == WORKLIST_CLAIMS
        totals.append(WORKLIST_CLAIMS / (done - started))
        after_read.append(WORKLIST_CLAIMS / (done - read))
        steps.append((read - started, scored - read, done - scored))
    read_s, score_s, write_s = (round(statistics.median(step[i] for step in steps), 3) for i in range(3))
    from claims.parallel import worker_count

    return {"claims": WORKLIST_CLAIMS, "claims_per_s": round(statistics.median(totals)),
            "claims_per_s_in_workers": round(statistics.median(in_parts)), "workers": worker_count(WORKERS_ENV),
            "claims_per_s_after_read": round(statistics.median(after_read)), "runs": [round(x) for x in totals],
            "read_s": read_s, "score_rank_s": score_s, "write_s": write_s}


def bench_peer(tracking: str, claims_file: Path, work: Path, workers: int) -> dict[str, Any]:
    """The peer answering one row per request (8 connections) and 1,000 rows per request (2), with
    as many uvicorn workers as our server had (its own default is 1)."""
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    port = free_port()
    log = (work / "mlflow_serve.log").open("wb")
    process = subprocess.Popen(
        [str(mlflow_bin), "models", "serve", "-m", "models:/claimrisk@champion", "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "--workers", str(workers)],
        env=_env({"MLFLOW_TRACKING_URI": tracking}), stdout=log, stderr=subprocess.STDOUT,
    )
    lines = claims_file.read_text().splitlines()
    one_row = work / "peer_row.json"
    one_row.write_bytes(orjson.dumps({"dataframe_split": {"columns": ["claim"], "data": [[lines[0]]]}}))
    rows = work / "peer_rows.json"
    rows.write_bytes(orjson.dumps({"dataframe_split": {"columns": ["claim"], "data": [[x] for x in (lines * 2)[:BATCH]]}}))
    base = f"http://127.0.0.1:{port}"
    pid = process.pid
    try:
        wait_ready(f"{base}/ping", process, seconds=180)
        load(f"{base}/invocations", 8, 2, one_row, work)
        load(f"{base}/invocations", 2, 2, rows, work)
        single, batch = [], []
        for _ in range(REPEATS):
            single.append(load(f"{base}/invocations", 8, DURATION, one_row, work, pid))
            batch.append(load(f"{base}/invocations", batch_connections(workers), DURATION, rows, work, pid))
    finally:
        stop(process)
    b = medians(batch)
    return {"workers": workers, "single": medians(single), "batch": {**b, "claims_per_s": round(b["rps"] * BATCH, 0)}}


def main() -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_serving_", dir=OUT))
    setup = OUT / ("setup_ci" if CI else "setup")
    models, claims_file, tracking = prepare_model(setup)
    given = os.environ.get("BENCH_SERVING_MODELS_DIR")
    if given:
        models = Path(given)
    results: dict[str, Any] = {
        "load_generator": "wrk" if shutil.which("wrk") else "python-asyncio", "models": str(models),
        "ci": CI, "duration_s": DURATION, "repeats": REPEATS, "targets": TARGETS,
        # Other jobs share the 2 cores: the load average says how much of the machine the run had.
        "cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    results["in_process"] = bench_in_process(models, claims_file)
    counts = worker_counts()
    results["api_by_workers"] = {}
    for workers in counts:
        results["api_by_workers"][workers] = bench_api(models, claims_file, work, workers)
        results["api_by_workers"][workers]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    results["api"] = api = results["api_by_workers"][counts[-1]]
    results["worklist"] = bench_worklist(models, claims_file, work)
    if not CI and not given:  # the peer serves the registered model the benchmark trained
        results["peer_mlflow_serve"] = peer = bench_peer(tracking, claims_file, work, api["workers"])
        results["speedup_vs_peer_single"] = round(api["score"]["rps"] / max(peer["single"]["rps"], 1e-9), 1)
        # Server CPU per single-row request, theirs over ours: steadier than the req/s ratio, which
        # also moves with how evenly the peer's workers share the connections (one worker may accept
        # all eight and leave the other core idle) and with what else the VM runs.
        results["cpu_ratio_vs_peer_single"] = round(
            peer["single"].get("server_cpu_ms", 0.0) / max(api["score"].get("server_cpu_ms", 0.0), 1e-9), 1)
        results["speedup_vs_peer_batch"] = round(
            api["batch"]["claims_per_s"] / max(peer["batch"]["claims_per_s"], 1e-9), 1)
        # per claim, each side at its best: our 1,000-claim batch against the peer's 1-row requests
        results["speedup_batch_vs_peer_single"] = round(
            api["batch"]["claims_per_s"] / max(peer["single"]["rps"], 1e-9), 1)
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(results)
    shutil.rmtree(work, ignore_errors=True)
    return results


def _score_batch_sizes(base: str) -> float | None:
    """Mean claims per /v1/score model call over the run (requests waiting together are batched),
    from the server's own ``claimrisk_score_batch_claims`` histogram."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=30).read().decode()
    found: dict[str, float] = {}
    for line in text.splitlines():
        for key in ("sum", "count"):
            if line.startswith(f"claimrisk_score_batch_claims_{key} "):
                found[key] = float(line.split()[1])
    if not found.get("count"):
        return None
    return round(found["sum"] / found["count"], 2)


def print_table(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    for workers, api in results["api_by_workers"].items():
        h, s, b = api["healthz"], api["score"], api["batch"]
        rows += [
            (f"GET /healthz (8 conn, {workers} workers)", f"{h['rps']:,.0f} req/s",
             f"p50 {h['p50_ms']} ms / p99 {h['p99_ms']} ms; server CPU {h.get('server_cpu_ms')} ms/req{_failures(h)}"),
            (f"POST /v1/score (8 conn, {workers} workers)", f"{s['rps']:,.0f} req/s",
             f"p50 {s['p50_ms']} ms / p99 {s['p99_ms']} ms; server CPU {s.get('server_cpu_ms')} ms/req; "
             f"{api['score_vs_healthz']:.0%} of /healthz; {api['score_claims_per_model_call']} claims per model call{_failures(s)}"),
            (f"POST /v1/score/batch 1,000 ({batch_connections(workers)} conn, {workers} w.)", f"{b['claims_per_s']:,.0f} claims/s",
             f"p50 {b['p50_ms']} ms; server CPU {b.get('server_cpu_ms')} ms/req; load avg after {api['loadavg_after'][0]}{_failures(b)}"),
        ]
    wl = results["worklist"]
    rows.append((f"claimrisk score {wl['claims']:,} ({wl['workers']} workers)", f"{wl['claims_per_s_in_workers']:,} claims/s",
                 "end to end after the model is loaded: read, score, rank, write"))
    rows.append(("  the same in one process", f"{wl['claims_per_s']:,} claims/s",
                 f"{wl['claims_per_s_after_read']:,}/s after reading; read {wl['read_s']} s, "
                 f"score+rank {wl['score_rank_s']} s, write {wl['write_s']} s"))
    if "peer_mlflow_serve" in results:
        peer = results["peer_mlflow_serve"]
        ps, pb, pw = peer["single"], peer["batch"], peer["workers"]
        rows.append((f"peer: mlflow serve, 1 row (8 conn, {pw} w.)", f"{ps['rps']:,.1f} req/s",
                     f"p50 {ps['p50_ms']} ms; server CPU {ps.get('server_cpu_ms')} ms/req; "
                     f"our /v1/score {results['speedup_vs_peer_single']}x (CPU per request "
                     f"{results['cpu_ratio_vs_peer_single']}x){_failures(ps)}"))
        rows.append((f"peer: mlflow serve, 1,000 rows ({batch_connections(pw)} conn, {pw} w.)", f"{pb['claims_per_s']:,.0f} claims/s",
                     f"p50 {pb['p50_ms']} ms; our batch {results['speedup_vs_peer_batch']}x per claim; "
                     f"our batch vs its 1-row {results['speedup_batch_vs_peer_single']}x{_failures(pb)}"))
    ip = results["in_process"]
    print(f"serving benchmark ({results['load_generator']}, {REPEATS} runs x {DURATION} s, medians; "
          f"load average {results['loadavg_start'][0]} -> {results['loadavg_end'][0]} on {results['cpus']} cpus)")
    for name, figure, note in rows:
        print(f"  {name:<44} {figure:>18}   {note}")
    print(f"  in process, CPU per call: /healthz {ip['healthz_us']} us, /v1/score {ip['score_us']} us, "
          f"batch 1,000 {ip['batch_1000_ms']} ms; one claim's steps: parse {ip['step_parse_us']}, "
          f"from_claims {ip['step_from_claims_us']}, featurize {ip['step_featurize_us']}, "
          f"predict {ip['step_predict_us']} ({ip['predict_rows']:.0f} rows), answers {ip['step_answers_us']} us")


if __name__ == "__main__":
    main()
