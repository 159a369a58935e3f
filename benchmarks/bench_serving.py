"""Serving benchmark: the API under load on loopback, the batch endpoint, the worklist, and the peer.

One run measures, on the same machine and in the same session (ratios are what to compare):

* ``GET /healthz`` req/s: the bare framework, for scale;
* ``POST /v1/score``, one claim per request, 8 concurrent connections: req/s, p50, p99 (full
  answer: rules and risk_if_fixed);
* ``POST /v1/score/batch`` with 1,000 claims, 2 connections: claims/s;
* ``claimrisk score`` (the worklist) on 200,000 claims (CI: 20,000): claims/s after the model is loaded;
* the peer: ``mlflow models serve --env-manager local`` on the same registered model, single-row
  requests, 8 connections (skipped under CI=true).

The server is ``python -m claimrisk serve`` (one uvicorn worker, OMP_NUM_THREADS=1). The load
generator is wrk when installed (``apt-get install -y wrk``), otherwise a raw-socket asyncio
generator in its own process; the figures say which one ran. Both share the 2 cores with the server.
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
    if not (models / "claimrisk.json").is_file():
        subprocess.run([sys.executable, "-m", "claimrisk", "train", "--claims", str(history / "claims.jsonl"),
                        "--remits", str(history / "remits.jsonl"), "--promote", "--models-dir", str(models)],
                       check=True, env=env, capture_output=True)
    return models, history / "claims.jsonl", tracking


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


def load(url: str, connections: int, seconds: int, body: Path | None, work: Path) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, connections, seconds, body, work)
    return run_python_loadgen(url, connections, seconds, body, work)


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}


# -- measurements -----------------------------------------------------------------------------------


def bench_api(models: Path, claims_file: Path, work: Path) -> dict[str, Any]:
    lines = claims_file.read_text().splitlines()
    single = work / "claim.json"
    single.write_bytes(lines[0].encode())
    batch = work / "batch.json"
    batch.write_bytes(orjson.dumps({"claims": [orjson.loads(x) for x in (lines * 2)[:1000]]}))
    port = free_port()
    log = (work / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "claimrisk", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_env({"CLAIMRISK_MODELS_DIR": str(models), "CLAIMRISK_RELOAD_POLL_SECONDS": "0"}),
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/readyz", process)
        load(f"{base}/v1/score", 8, 1, single, work)  # warm-up
        health, score, batch_runs = [], [], []
        for _ in range(REPEATS):  # interleaved, so drift hits every endpoint alike
            health.append(load(f"{base}/healthz", 8, DURATION, None, work))
            score.append(load(f"{base}/v1/score", 8, DURATION, single, work))
            batch_runs.append(load(f"{base}/v1/score/batch", 2, DURATION, batch, work))
    finally:
        stop(process)
    h, s, b = medians(health), medians(score), medians(batch_runs)
    return {
        "healthz": h,
        "score": s,
        "score_vs_healthz": round(s["rps"] / h["rps"], 3),
        "batch": {**b, "claims_per_s": round(b["rps"] * 1000, 0)},
        "runs": {"healthz_rps": [r["rps"] for r in health], "score_rps": [r["rps"] for r in score],
                 "batch_rps": [r["rps"] for r in batch_runs]},
    }


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
    """In process, after the model is loaded: read + featurize + score + rank + write."""
    from claims.sources import load_claims
    from serving.config import Settings
    from serving.model_store import ModelStore
    from serving.scorer import load_rule_context
    from serving.worklist import build_worklist, write_worklist

    source = make_worklist_input(claims_file, WORKLIST_CLAIMS, work)
    scorer = ModelStore(Settings(models_dir=models), load_rule_context()).load()
    totals, scoring = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        frame = load_claims(source).frame
        read = time.perf_counter()
        table = build_worklist(scorer, frame)
        write_worklist(table, work / "worklist.parquet")
        done = time.perf_counter()
        assert table.num_rows == WORKLIST_CLAIMS
        totals.append(WORKLIST_CLAIMS / (done - started))
        scoring.append(WORKLIST_CLAIMS / (done - read))
    return {"claims": WORKLIST_CLAIMS, "claims_per_s": round(statistics.median(totals)),
            "claims_per_s_after_read": round(statistics.median(scoring)), "runs": [round(x) for x in totals]}


def bench_peer(tracking: str, claims_file: Path, work: Path) -> dict[str, Any]:
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    port = free_port()
    log = (work / "mlflow_serve.log").open("wb")
    process = subprocess.Popen(
        [str(mlflow_bin), "models", "serve", "-m", "models:/claimrisk@champion", "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port)],
        env=_env({"MLFLOW_TRACKING_URI": tracking}), stdout=log, stderr=subprocess.STDOUT,
    )
    body = work / "peer_row.json"
    body.write_bytes(orjson.dumps({"dataframe_split": {"columns": ["claim"], "data": [[claims_file.read_text().splitlines()[0]]]}}))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/ping", process, seconds=180)
        load(f"{base}/invocations", 8, 2, body, work)
        runs = [load(f"{base}/invocations", 8, DURATION, body, work) for _ in range(REPEATS)]
    finally:
        stop(process)
    return medians(runs)


def main() -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_serving_", dir=OUT))
    setup = OUT / ("setup_ci" if CI else "setup")
    models, claims_file, tracking = prepare_model(setup)
    results: dict[str, Any] = {
        "load_generator": "wrk" if shutil.which("wrk") else "python-asyncio",
        "ci": CI, "duration_s": DURATION, "repeats": REPEATS, "targets": TARGETS,
        # Other jobs share the 2 cores: the load average says how much of the machine the run had.
        "cpus": os.cpu_count(), "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    results["api"] = bench_api(models, claims_file, work)
    results["worklist"] = bench_worklist(models, claims_file, work)
    if not CI:
        results["peer_mlflow_serve"] = peer = bench_peer(tracking, claims_file, work)
        results["speedup_vs_peer_single"] = round(results["api"]["score"]["rps"] / max(peer["rps"], 1e-9), 1)
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    api = results["api"]
    rows = [
        ("GET /healthz (8 conn)", f"{api['healthz']['rps']:,.0f} req/s", f"p50 {api['healthz']['p50_ms']} ms / p99 {api['healthz']['p99_ms']} ms"),
        ("POST /v1/score (8 conn)", f"{api['score']['rps']:,.0f} req/s", f"p50 {api['score']['p50_ms']} ms / p99 {api['score']['p99_ms']} ms"),
        ("POST /v1/score/batch 1,000 (2 conn)", f"{api['batch']['claims_per_s']:,.0f} claims/s", f"p50 {api['batch']['p50_ms']} ms"),
        (f"claimrisk score {WORKLIST_CLAIMS:,}", f"{results['worklist']['claims_per_s']:,} claims/s",
         f"read+score+rank+write; {results['worklist']['claims_per_s_after_read']:,}/s after reading"),
    ]
    if "peer_mlflow_serve" in results:
        peer = results["peer_mlflow_serve"]
        rows.append(("peer: mlflow models serve (8 conn)", f"{peer['rps']:,.1f} req/s", f"p50 {peer['p50_ms']} ms; ours {results['speedup_vs_peer_single']}x"))
    print(f"serving benchmark ({results['load_generator']}, {REPEATS} runs x {DURATION} s, medians; "
          f"load average {results['loadavg_start'][0]} -> {results['loadavg_end'][0]} on {results['cpus']} cpus)")
    for name, figure, note in rows:
        print(f"  {name:<40} {figure:>20}   {note}")
    print(f"  score keeps {api['score_vs_healthz']:.0%} of /healthz throughput")
    shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
