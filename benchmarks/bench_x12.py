"""X12 throughput: our 837/835 readers vs x12sdk, and flat memory in the number of claims.

Files are written by ``edi.writer`` from deterministic synthetic claims (two lines each: a J3490
drug line with NDC, PWK and description, and an administration code). ``CI=true`` uses small
sizes. Run: ``.venv/bin/python -m benchmarks.bench_x12``.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from claims.model import Claim
from edi.claims837 import iter_837
from edi.remits835 import classify_outcome, iter_835
from edi.writer import write_835, write_837

REPEATS = 3
PAYER_TYPES = ("medicare", "medicaid", "commercial", "other")


def synthetic_claims(n: int) -> Iterator[Claim]:
    """Deterministic drug claims; built with model_construct-free validation once per claim."""
    base = dt.date(2026, 1, 5)
    for i in range(n):
        service = base + dt.timedelta(days=i % 300)
        yield Claim.model_validate({
            "claim_id": f"C{i:09d}",
            "payer": {"id": f"P{i % 7}", "name": f"PAYER {i % 7}", "type": PAYER_TYPES[i % 4]},
            "billing_provider_npi": "1234567893",
            "place_of_service": "11",
            "total_charge": 1350.0 + i % 50,
            "diagnosis_codes": ["M069", "Z79899"],
            "prior_authorization": f"PA{i:07d}" if i % 3 else None,
            "attachments": [{"report_type": "OZ", "transmission": "FX", "control_number": f"INV{i}",
                             "line_number": 1}],
            "submission_date": (base + dt.timedelta(days=(i // 5000) % 300 + 10)).isoformat(),
            "lines": [
                {"line_number": 1, "procedure_code": "J3490", "modifiers": ["JZ"],
                 "description": "EXAMPLEMAB 100MG IV", "charge": 1250.0 + i % 50, "units": 1.0,
                 "service_date": service.isoformat(), "diagnosis_pointers": [1, 2],
                 "line_control_number": f"L{i}-1",
                 "drug": {"ndc": "99999012301", "quantity": 20.0, "unit": "ML"}},
                {"line_number": 2, "procedure_code": "96413", "charge": 100.0, "units": 1.0,
                 "service_date": service.isoformat(), "diagnosis_pointers": [1],
                 "line_control_number": f"L{i}-2"},
            ],
        })


def synthetic_rows(n: int) -> Iterator[dict[str, Any]]:
    """§6 rows for n claims: two lines each, every third drug line denied CO-16 with M119."""
    for i in range(n):
        denied = i % 3 == 0
        lines: list[tuple[str, float, float, list[dict[str, Any]], list[str]]] = [
            ("J3490", 1250.0, 0.0 if denied else 1000.0,
             [{"level": "line", "group": "CO", "reason": "16" if denied else "45",
               "amount": 1250.0 if denied else 250.0}], ["M119"] if denied else []),
            ("96413", 100.0, 80.0, [{"level": "line", "group": "PR", "reason": "2", "amount": 20.0}], []),
        ]
        for number, (code, charge, paid, adjustments, remarks) in enumerate(lines, 1):
            yield {
                "claim_id": f"C{i:09d}", "payer_claim_id": f"ICN{i}", "claim_status": "1",
                "line_control_number": f"L{i}-{number}", "procedure_code": code, "modifiers": [],
                "charge": charge, "paid": paid, "units_paid": 1.0, "service_date": "2026-01-10",
                "adjustments": adjustments, "remarks": remarks,
                "outcome": classify_outcome(claim_status="1", charge=charge, paid=paid, adjustments=adjustments),
                "payer_id": "P1", "paid_date": "2026-02-01", "sequence": i + 1,
            }


def _median_seconds(run: Callable[[], int]) -> tuple[float, int]:
    """Median CPU seconds of this process (one core): wall time is unreliable on a shared machine."""
    times, count = [], 0
    for _ in range(REPEATS):
        start = time.process_time()
        count = run()
        times.append(time.process_time() - start)
    return statistics.median(times), count


def _count_837(path: Path) -> int:
    return sum(1 for item in iter_837(path) if isinstance(item, Claim))


def _count_835(path: Path) -> int:
    claims = set()
    for item in iter_835(path):
        if isinstance(item, dict):
            claims.add(item["sequence"])
    return len(claims)


def _peak_mb(run: Callable[[], int]) -> float:
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _x12sdk_claims(path: Path) -> int:
    from x12sdk.io import X12ModelReader

    n = 0
    with X12ModelReader(str(path)) as reader:
        for model in reader.models():
            claims: Any = model.claims()  # type: ignore[attr-defined]
            n += sum(1 for _ in claims)
    return n


def main() -> dict[str, Any]:
    ci = os.environ.get("CI", "").lower() == "true"
    n_big = 5_000 if ci else 100_000
    n_small = 1_000 if ci else 20_000
    n_sdk = 500 if ci else 5_000
    results: dict[str, Any] = {"claims": n_big}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p837, p835 = folder / "big.837", folder / "big.835"
        claims = list(synthetic_claims(n_big))
        start = time.process_time()
        write_837(claims, p837)
        results["write_837_claims_per_s"] = n_big / (time.process_time() - start)
        rows = list(synthetic_rows(n_big))
        start = time.process_time()
        write_835(rows, p835)
        results["write_835_claims_per_s"] = n_big / (time.process_time() - start)
        del rows

        seconds, count = _median_seconds(lambda: _count_837(p837))
        assert count == n_big, count
        results["read_837_claims_per_s"] = n_big / seconds
        seconds, count = _median_seconds(lambda: _count_835(p835))
        assert count == n_big, count
        results["read_835_claims_per_s"] = n_big / seconds

        small837 = folder / "small.837"
        write_837(claims[:n_small], small837)
        results["peak_mb_837_small"] = _peak_mb(lambda: _count_837(small837))
        results["peak_mb_837_big"] = _peak_mb(lambda: _count_837(p837))
        results["peak_mb_claims"] = (n_small, n_big)
        single = folder / "single_tx.837"  # the whole file in one ST-SE: memory must still be flat
        write_837(claims, single, claims_per_transaction=n_big + 1)
        results["peak_mb_837_one_transaction"] = _peak_mb(lambda: _count_837(single))

        sdk_file = folder / "sdk.837"
        write_837(claims[:n_sdk], sdk_file, claims_per_transaction=n_sdk)
        seconds, count = _median_seconds(lambda: _x12sdk_claims(sdk_file))
        results["x12sdk_837_claims_per_s"] = count / seconds
        results["x12sdk_claims"] = n_sdk
        sdk835 = folder / "sdk.835"
        write_835(synthetic_rows(n_sdk), sdk835)
        seconds, count = _median_seconds(lambda: _x12sdk_claims(sdk835))
        results["x12sdk_835_claims_per_s"] = count / seconds

    print(f"{'measure':36} {'value':>14}")
    for key, value in results.items():
        text = f"{value:,.1f}" if isinstance(value, float) else str(value)
        print(f"{key:36} {text:>14}")
    return results


if __name__ == "__main__":
    main()
