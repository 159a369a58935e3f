"""`make bench`: run every area's benchmark and print its medians.

Each ``benchmarks/bench_<area>.py`` exposes ``main() -> dict``; this runner executes them one after
another in fresh subprocesses (so one area's imports and threads cannot distort another's timings)
and writes all figures to ``bench-out/results.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

AREAS = ["reference", "x12", "claims", "synth", "features", "train", "serving", "worklist", "web"]


def main() -> int:
    out_dir = Path("bench-out")
    out_dir.mkdir(exist_ok=True)
    selected = sys.argv[1:] or AREAS
    results: dict[str, object] = {}
    failed = []
    for area in selected:
        module = f"benchmarks.bench_{area}"
        if not Path(f"benchmarks/bench_{area}.py").exists():
            print(f"== {area}: no benchmark", flush=True)
            continue
        print(f"== {area}", flush=True)
        started = time.perf_counter()
        code = (
            "import json, sys, importlib; "
            f"r = importlib.import_module('{module}').main(); "
            f"open('bench-out/{area}.json', 'w').write(json.dumps(r, default=str, indent=2))"
        )
        proc = subprocess.run([sys.executable, "-c", code], env=os.environ.copy())
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            failed.append(area)
            print(f"== {area}: FAILED (exit {proc.returncode}) after {elapsed:.0f} s", flush=True)
            continue
        results[area] = json.loads(Path(f"bench-out/{area}.json").read_text())
        print(f"== {area}: done in {elapsed:.0f} s", flush=True)
    Path("bench-out/results.json").write_text(json.dumps(results, indent=2, default=str))
    if failed:
        print("failed:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
