"""Reading claims from JSONL: orjson parse only (baseline), orjson + pydantic + from_claims, Arrow path.

    .venv/bin/python benchmarks/bench_claims.py            # 200,000 claims
    CI=true .venv/bin/python benchmarks/bench_claims.py    # 20,000 claims

The downstream target is ``claimrisk check`` on 200,000 claims in at most 3x the orjson-only
parse time, so reading must be a small multiple of it. Claims come from a small generator written
here (realistic shapes: 1-4 lines, drug blocks, diagnoses, attachments, a few bad records).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from claims.jsonl import read_claims_jsonl, read_claims_jsonl_pydantic

REPEATS = 3
PROCEDURES = ["J3490", "J3590", "J9999", "C9399", "96413", "96365", "J1745", "J9035"]
DIAGNOSES = ["M06.9", "Z79.899", "C50.912", "E11.9", "C34.90", "K50.90", "L40.0", "G35"]
PAYERS = [("MCR01", "medicare"), ("MCD07", "medicaid"), ("BCBS1", "commercial"), ("AET22", "commercial")]


def generate_claim(rng: random.Random, index: int) -> dict[str, Any]:
    payer_id, payer_type = rng.choice(PAYERS)
    n_lines = rng.choice([1, 1, 1, 2, 2, 3, 4])
    n_dx = rng.randint(1, 4)
    lines = []
    for number in range(1, n_lines + 1):
        charge = round(rng.uniform(20, 9000), 2)
        line: dict[str, Any] = {
            "line_number": number,
            "procedure_code": rng.choice(PROCEDURES),
            "modifiers": rng.choice([[], [], ["JW"], ["JZ"], ["59"]]),
            "description": rng.choice([None, "EXAMPLEMAB 100MG IV", "DRUG 10MG/ML INJ"]),
            "charge": charge,
            "units": rng.choice([1, 2, 10, 0.5]),
            "unit_basis": "UN",
            "service_date": f"2026-01-{rng.randint(1, 28):02d}",
            "diagnosis_pointers": sorted(rng.sample(range(1, n_dx + 1), rng.randint(1, n_dx))),
            "line_control_number": f"L{number}",
        }
        if rng.random() < 0.7:
            line["drug"] = {
                "ndc": rng.choice(["99999-0123-01", "12345678901", "1234-5678-90"]),
                "quantity": rng.choice([1, 2.5, 10, 20]),
                "unit": rng.choice(["ML", "UN", "GR", "ME"]),
            }
        if rng.random() < 0.2:
            line["note"] = "VIAL 200MG IV GIVEN"
        lines.append(line)
    claim: dict[str, Any] = {
        "claim_id": f"PCN{index:09d}",
        "claim_type": "professional",
        "frequency_code": "1",
        "payer": {"id": payer_id, "name": "EXAMPLE HEALTH PLAN", "type": payer_type},
        "billing_provider_npi": "1234567893",
        "place_of_service": rng.choice(["11", "22", "19"]),
        "total_charge": round(sum(line["charge"] for line in lines), 2),
        "diagnosis_codes": rng.sample(DIAGNOSES, n_dx),
        "prior_authorization": rng.choice([None, None, "PA778899"]),
        "attachments": [{"report_type": "OZ", "transmission": "FX", "control_number": f"INV{index}"}]
        if rng.random() < 0.3
        else [],
        "submission_date": f"2026-02-{rng.randint(1, 28):02d}",
        "lines": lines,
    }
    return claim


def write_claims(path: Path, n_claims: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("wb") as handle:
        for index in range(n_claims):
            if rng.random() < 0.001:  # a few bad records, as in real batches
                handle.write(
                    b'{"claim_id": "BAD%d", "payer": {"id": "P"}, "lines": [], "colour": 1}\n' % index
                )
                continue
            handle.write(orjson.dumps(generate_claim(rng, index)) + b"\n")


def orjson_only(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                orjson.loads(raw)
                count += 1
    return count


def median_seconds(run: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) medians; CPU (all threads) is steadier on a shared machine."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> dict[str, Any]:
    n_claims = 20_000 if os.environ.get("CI", "").lower() == "true" else 200_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.jsonl"
        write_claims(path, n_claims)
        size_mb = path.stat().st_size / 1e6
        fast = read_claims_jsonl(path)
        reference = read_claims_jsonl_pydantic(path)
        assert fast.frame.n_claims == reference.frame.n_claims and len(fast.errors) == len(reference.errors)
        timings = {
            "orjson parse only": median_seconds(lambda: orjson_only(path)),
            "orjson + pydantic + from_claims": median_seconds(lambda: read_claims_jsonl_pydantic(path)),
            "arrow path (read_claims_jsonl)": median_seconds(lambda: read_claims_jsonl(path)),
        }
    baseline, baseline_cpu = timings["orjson parse only"]
    print(f"{n_claims:,} claims, {size_mb:.1f} MB, {fast.frame.n_lines:,} lines, medians of {REPEATS}")
    print(f"{'variant':34} {'wall s':>7} {'claims/s':>10} {'x orjson':>9} {'cpu s':>7} {'x orjson':>9}")
    for name, (wall, cpu) in timings.items():
        print(
            f"{name:34} {wall:7.3f} {n_claims / wall:10,.0f} {wall / baseline:9.2f} {cpu:7.3f} {cpu / baseline_cpu:9.2f}"
        )
    return {
        "n_claims": n_claims,
        "file_mb": size_mb,
        "seconds": {name: wall for name, (wall, _) in timings.items()},
        "cpu_seconds": {name: cpu for name, (_, cpu) in timings.items()},
        "claims_per_second": {name: n_claims / wall for name, (wall, _) in timings.items()},
        "ratio_to_orjson": {name: wall / baseline for name, (wall, _) in timings.items()},
        "cpu_ratio_to_orjson": {name: cpu / baseline_cpu for name, (_, cpu) in timings.items()},
        "claims_read": fast.frame.n_claims,
        "errors": len(fast.errors),
    }


if __name__ == "__main__":
    main()
