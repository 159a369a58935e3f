"""Reading claims from JSONL: orjson parse only (baseline), orjson + pydantic + from_claims, Arrow path.

    .venv/bin/python benchmarks/bench_claims.py            # 200,000 claims
    CI=true .venv/bin/python benchmarks/bench_claims.py    # 20,000 claims

The downstream target is ``claimrisk check`` on 200,000 claims in at most 3x the orjson-only
parse time, so reading must be a small multiple of it. Claims come from a small generator written
here (realistic shapes: 1-4 lines, drug blocks, diagnoses, attachments, a few bad records); when
``$CLAIMRISK_BENCH_CLAIMS`` names a file (e.g. a ``claimrisk synth`` history), its first lines are
read too and reported as a second table.

The variants run in interleaved rounds (one of each per round) so a change in the machine's load
hits them alike; ratios are medians of per-round ratios, and the CPU time (all threads) and the
1-minute load average come with every figure.
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


def interleaved(variants: dict[str, Callable[[], Any]], repeats: int = REPEATS) -> dict[str, list[tuple[float, float, float]]]:
    """(wall, CPU, 1-minute load after the run) per round for each variant, one of each per round."""
    rounds: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            rounds[name].append((time.perf_counter() - start, time.process_time() - start_cpu, os.getloadavg()[0]))
    return rounds


def _table(path: Path, n_claims: int, with_pydantic: bool) -> dict[str, Any]:
    fast = read_claims_jsonl(path)
    variants: dict[str, Callable[[], Any]] = {"orjson parse only": lambda: orjson_only(path)}
    if with_pydantic:
        reference = read_claims_jsonl_pydantic(path)
        assert fast.frame.n_claims == reference.frame.n_claims and len(fast.errors) == len(reference.errors)
        variants["orjson + pydantic + from_claims"] = lambda: read_claims_jsonl_pydantic(path)
    variants["arrow path (read_claims_jsonl)"] = lambda: read_claims_jsonl(path)
    rounds = interleaved(variants)
    base = rounds["orjson parse only"]

    def med(name: str, k: int) -> float:
        return statistics.median(r[k] for r in rounds[name])

    def ratio(name: str, k: int) -> float:
        return statistics.median(a[k] / b[k] for a, b in zip(rounds[name], base, strict=True))

    size_mb = path.stat().st_size / 1e6
    print(f"{path.name}: {n_claims:,} claims, {size_mb:.1f} MB, {fast.frame.n_lines:,} lines, medians of {REPEATS}")
    print(f"{'variant':34} {'wall s':>7} {'claims/s':>10} {'x orjson':>9} {'cpu s':>7} {'x orjson':>9} {'load':>5}")
    for name in rounds:
        wall, cpu = med(name, 0), med(name, 1)
        print(
            f"{name:34} {wall:7.3f} {n_claims / wall:10,.0f} {ratio(name, 0):9.2f} {cpu:7.3f} {ratio(name, 1):9.2f}"
            f" {med(name, 2):5.2f}"
        )
    return {
        "n_claims": n_claims,
        "file_mb": size_mb,
        "seconds": {name: med(name, 0) for name in rounds},
        "cpu_seconds": {name: med(name, 1) for name in rounds},
        "load_1m": {name: med(name, 2) for name in rounds},
        "claims_per_second": {name: n_claims / med(name, 0) for name in rounds},
        "claims_per_cpu_second": {name: n_claims / med(name, 1) for name in rounds},
        "ratio_to_orjson": {name: ratio(name, 0) for name in rounds},
        "cpu_ratio_to_orjson": {name: ratio(name, 1) for name in rounds},
        "claims_read": fast.frame.n_claims,
        "errors": len(fast.errors),
    }


def main() -> dict[str, Any]:
    ci = os.environ.get("CI", "").lower() == "true"
    n_claims = 20_000 if ci else 200_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.jsonl"
        write_claims(path, n_claims)
        figures = _table(path, n_claims, with_pydantic=True)
        given = Path(os.environ.get("CLAIMRISK_BENCH_CLAIMS", ""))
        if not ci and given.is_file():
            sample = Path(folder) / given.name
            with given.open("rb") as src, sample.open("wb") as dst:
                for k, line in enumerate(src):
                    if k >= n_claims:
                        break
                    dst.write(line)
            n_given = sum(1 for _ in sample.open("rb"))
            figures["given_file"] = _table(sample, n_given, with_pydantic=False)
    return figures


if __name__ == "__main__":
    main()
