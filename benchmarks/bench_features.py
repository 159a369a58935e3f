"""Features benchmark: rules + features on columnar lines, a naive per-claim loop, ``check``, one claim.

Targets: rules + features >= 500,000 lines/s on one core (1M lines; CI 50k), the naive
loop as a ratio, ``check`` <= 3x an orjson-only parse of the same JSONL (200k claims; CI 5k), one claim
through rules + features <= 1 ms p99 in process. ``CI=true`` shrinks sizes to finish in < 60 s.

Wall and CPU medians are both reported: on a shared machine compare CPU time and same-run ratios.
``check`` runs with 1 and with 2 worker processes (the orjson baseline is one process); the
single-claim figures come with thread CPU percentiles, which scheduling delays do not inflate.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_features
    .venv/bin/python -m benchmarks.bench_features check     # only the check figures (200k claims)

The ``check`` input is ``$CLAIMRISK_BENCH_CLAIMS`` (its first 200k lines) when set, else a synthetic
history made here (``synthetic.history.write_history``, seed 11).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from claims.columnar import ATTACHMENT_COLUMNS, DIAGNOSIS_COLUMNS, LINE_COLUMNS, ClaimFrame

REPEATS = 3
_CODES = ["J3490", "J3590", "J9999", "C9399", "J9035", "J1817", "J0696", "96365", "96413", "99213", "Q5103"]
_NDCS = [None, "99999-0123-01", "50242-0060-01", "50242006001", "00024-5924-10", "5024200601", "ABC",
         "00143-9856-25", "12345-6789-0"]
_UNITS = [None, "UN", "ML", "ME", "XX"]
_DESCS = [None, "EXAMPLEMAB 100MG IV", "EXAMPLEMAB", "100 MG IV", "UNCLASSIFIED DRUG 5 ML"]
_DX = ["M06.9", "Z79.899", "M06", "C50.911", "E11.9", "ZZZ.99", "I10"]
_MODS = ["", "JW", "JZ", "59", "JZ|59"]
_PAYERS = [("EXHP1", "commercial"), ("MCR01", "medicare"), ("MCD01", "medicaid"), ("OTH1", "other")]


def _obj(values: list[Any], idx: Any) -> np.ndarray:
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[idx]


def synthetic_frame(n_lines: int, seed: int) -> ClaimFrame:
    """A columnar frame of about ``n_lines`` lines (1-5 per claim) built with NumPy only."""
    rng = np.random.default_rng(seed)
    per_claim = rng.integers(1, 6, size=n_lines // 3 + 1)
    per_claim = per_claim[: np.searchsorted(np.cumsum(per_claim), n_lines) + 1]
    n_claims = per_claim.shape[0]
    ci = np.repeat(np.arange(n_claims), per_claim)[:n_lines]
    per_claim = np.bincount(ci, minlength=n_claims)
    n = ci.shape[0]
    starts = np.concatenate(([0], np.cumsum(per_claim)[:-1]))
    line_number = np.arange(n) - starts[ci] + 1
    payer = rng.integers(0, len(_PAYERS), n_claims)[ci]
    submission = (np.datetime64("2026-01-15") - rng.integers(0, 30, n_claims)[ci]).astype("datetime64[D]")
    service = (submission - rng.choice([0, 5, 180, 181, 365, 366], n)).astype("datetime64[D]")
    charge = rng.choice([0.0, 100.0, 250.5, 1000.0], n)
    total = np.bincount(ci, weights=charge, minlength=n_claims) + rng.choice([0.0, 0.0, 0.02], n_claims)
    n_dx = rng.integers(0, 4, n_claims)
    has_drug: np.ndarray = np.asarray(rng.random(n) < 0.7)
    lines = {
        "claim_index": ci,
        "claim_id": _obj([f"B{i}" for i in range(n_claims)], ci),
        "claim_type": _obj(["professional", "professional", "institutional"], rng.integers(0, 3, n_claims)[ci]),
        "frequency_code": _obj(["1"], np.zeros(n, dtype=np.int64)),
        "payer_id": _obj([p for p, _ in _PAYERS], payer),
        "payer_name": _obj([None], np.zeros(n, dtype=np.int64)),
        "payer_type": _obj([t for _, t in _PAYERS], payer),
        "billing_provider_npi": _obj([f"{1000000000 + k}" for k in range(200)], rng.integers(0, 200, n_claims)[ci]),
        "place_of_service": _obj(["11", "22", "19"], rng.integers(0, 3, n_claims)[ci]),
        "type_of_bill": _obj([None], np.zeros(n, dtype=np.int64)),
        "total_charge": total[ci],
        "claim_prior_authorization": _obj([None, "PA1"], rng.integers(0, 2, n_claims)[ci]),
        "claim_note": _obj([None], np.zeros(n, dtype=np.int64)),
        "submission_date": submission,
        "n_lines": per_claim[ci],
        "n_diagnoses": n_dx[ci],
        "line_number": line_number,
        "procedure_code": _obj(_CODES, rng.integers(0, len(_CODES), n)),
        "modifiers": _obj(_MODS, rng.integers(0, len(_MODS), n)),
        "description": _obj(_DESCS, rng.integers(0, len(_DESCS), n)),
        "charge": charge,
        "units": rng.choice([0.0, 1.0, 2.0, 20.0], n),
        "unit_basis": _obj(["UN"], np.zeros(n, dtype=np.int64)),
        "service_date": service,
        "pointer_count": rng.integers(0, 3, n),
        "pointer_min": rng.integers(0, 3, n),
        "pointer_max": rng.integers(1, 5, n),
        "revenue_code": _obj([None], np.zeros(n, dtype=np.int64)),
        "line_prior_authorization": _obj([None, None, None, "L1"], rng.integers(0, 4, n)),
        "line_note": _obj([None, None, "GIVEN 50 MG"], rng.integers(0, 3, n)),
        "line_control_number": _obj([None], np.zeros(n, dtype=np.int64)),
        "has_drug": has_drug,
        "ndc": np.where(has_drug, _obj(_NDCS, rng.integers(0, len(_NDCS), n)), None),
        "drug_quantity": np.where(has_drug, rng.choice([np.nan, 0.0, 1.0, 2.0, 20.0], n), np.nan),
        "drug_unit": np.where(has_drug, _obj(_UNITS, rng.integers(0, len(_UNITS), n)), None),
        "prescription_number": _obj([None], np.zeros(n, dtype=np.int64)),
        "link_sequence": _obj([None], np.zeros(n, dtype=np.int64)),
    }
    lines["pointer_min"] = np.minimum(lines["pointer_min"], lines["pointer_max"])
    d_ci = np.repeat(np.arange(n_claims), n_dx)
    d_pos = np.arange(d_ci.shape[0]) - np.concatenate(([0], np.cumsum(n_dx)[:-1]))[d_ci] + 1
    diagnoses = {"claim_index": d_ci, "position": d_pos, "code": _obj(_DX, rng.integers(0, len(_DX), d_ci.shape[0]))}
    n_att = rng.integers(0, 2, n_claims)
    a_ci = np.repeat(np.arange(n_claims), n_att)
    attachments = {
        "claim_index": a_ci,
        "line_number": rng.choice([-1, 1], a_ci.shape[0]),
        "report_type": _obj(["OZ", "04", "03"], rng.integers(0, 3, a_ci.shape[0])),
        "transmission": _obj(["FX", "AA"], rng.integers(0, 2, a_ci.shape[0])),
        "control_number": _obj(["C1"], np.zeros(a_ci.shape[0], dtype=np.int64)),
    }
    assert set(lines) == set(LINE_COLUMNS) and set(diagnoses) == set(DIAGNOSIS_COLUMNS)
    assert set(attachments) == set(ATTACHMENT_COLUMNS)
    return ClaimFrame(lines, diagnoses, attachments, n_claims, _obj([f"B{i}" for i in range(n_claims)],
                                                                   np.arange(n_claims)))


# ----------------------------------------------------------------------------------- naive loop
class NaiveRules:
    """The same rules, written the obvious way: a Python loop over claims and lines with dicts."""

    def __init__(self, policies: Any, reference: Any) -> None:
        from reference import icd10
        from reference.ndc import normalize_ndc_one

        self.policies = policies
        self.reference = reference
        self.normalize = normalize_ndc_one
        cw = reference.crosswalk
        self.codes: dict[tuple[str, str], list[str]] = {}
        self.units: dict[tuple[str, str, str], float] = {}
        for q, ndc, code, bu in zip(cw["quarter"].tolist(), cw["ndc11"].tolist(), cw["hcpcs"].tolist(),
                                    cw["bill_units"].tolist(), strict=True):
            self.codes.setdefault((q, ndc), []).append(code)
            self.units[(q, ndc, code)] = bu
        self.starts = [(str(s)[:10], q) for s, q in zip(reference.quarter_starts.tolist(), reference.quarters,
                                                         strict=True)]
        self.dx = icd10.load_table().status

    def quarter(self, day: dt.date) -> str:
        iso = day.isoformat()
        found = self.starts[0][1]
        for start, q in self.starts:
            if start <= iso:
                found = q
        return found

    def claim(self, c: dict[str, Any]) -> set[tuple[str, int]]:
        from features.rules.catalog import is_admin_code
        from features.rules.description import description_gaps

        p = self.policies.policy_for(c["payer_id"], c["payer_type"])
        out: set[tuple[str, int]] = set()
        has_noc = has_admin = False
        line_sum = 0.0
        earliest = None
        for ln in c["lines"]:
            code = (ln["procedure_code"] or "").strip().upper()
            n = ln["line_number"]
            noc = code in p.noc_codes
            specific = code in self.reference.drug_hcpcs and not noc
            drug = noc or code in self.reference.drug_hcpcs or ln["has_drug"]
            has_noc |= noc
            has_admin |= is_admin_code(code)
            ndc_raw = ln["ndc"]
            present = ndc_raw is not None and bool(str(ndc_raw).strip())
            ndc = self.normalize(ndc_raw) if present else None
            if drug and not present:
                out.add(("NDC_MISSING", n))
            if present and ndc is None:
                out.add(("NDC_INVALID", n))
            qty = ln["drug_quantity"]
            if present and not (qty > 0):
                out.add(("NDC_QUANTITY_INVALID", n))
            unit = (ln["drug_unit"] or "").strip().upper()
            if present and (unit not in ("F2", "GR", "ME", "ML", "UN") or unit in p.banned_ndc_units):
                out.add(("NDC_UNIT_INVALID", n))
            units = ln["units"]
            if not (units > 0):
                out.add(("UNITS_INVALID", n))
            if noc and p.noc_units_one and not abs(units - 1.0) <= 1e-6:
                out.add(("NOC_UNITS_NOT_ONE", n))
            day = ln["service_date"] or c["submission_date"]
            if ndc is not None and (noc or specific):
                q = self.quarter(day)
                listed = self.codes.get((q, ndc), [])
                if noc and [x for x in listed if x not in p.noc_codes]:
                    out.add(("SPECIFIC_CODE_EXISTS", n))
                if specific and listed and code not in listed:
                    out.add(("NDC_HCPCS_MISMATCH", n))
                bu = self.units.get((q, ndc, code))
                if specific and unit == "UN" and qty > 0 and bu is not None and units == units:
                    expected = qty * bu
                    if abs(units - expected) > max(1.0, 0.1 * expected) + 1e-6:
                        out.add(("UNITS_MISMATCH", n))
            desc, note = ln["description"], ln["line_note"]
            if noc:
                if not (desc or "").strip() and not (note or "").strip():
                    out.add(("DESCRIPTION_MISSING", n))
                elif not all(description_gaps(desc, note)):
                    out.add(("DESCRIPTION_INCOMPLETE", n))
                atts = [a for a in c["attachments"] if a["line_number"] in (-1, n)]
                charge = ln["charge"]
                if p.invoice_required and not (charge < p.invoice_min_charge) and not any(
                    (a["report_type"] or "").upper() in p.invoice_report_types and (a["transmission"] or "").upper() != "AA"
                    for a in atts
                ):
                    out.add(("INVOICE_MISSING", n))
                if p.documentation_required and not any((a["transmission"] or "").upper() != "AA" for a in atts):
                    out.add(("DOCUMENTATION_MISSING", n))
                if p.prior_auth_required and not (c["prior_authorization"] or "").strip() and not (
                    ln["line_prior_authorization"] or ""
                ).strip():
                    out.add(("PRIOR_AUTH_MISSING", n))
            if ln["pointer_count"] == 0:
                if c["claim_type"] == "professional":  # 837I lines carry no pointer element
                    out.add(("DIAGNOSIS_POINTER_INVALID", n))
            elif ln["pointer_min"] < 1 or ln["pointer_max"] > len(c["diagnoses"]):
                out.add(("DIAGNOSIS_POINTER_INVALID", n))
            mods = set(ln["modifiers"].split("|")) if ln["modifiers"] else set()
            if drug and p.waste_modifier_required and not mods & {"JW", "JZ"}:
                out.add(("WASTE_MODIFIER_MISSING", n))
            if code == "C9399" and c["claim_type"] == "professional":
                out.add(("NOC_CODE_SETTING", n))
            charge = ln["charge"]
            if not (charge > 0):
                out.add(("CHARGE_INVALID", n))
            else:
                line_sum += charge
            earliest = day if earliest is None or day < earliest else earliest
        out |= self.mue(c, p)
        if not c["diagnoses"]:
            out.add(("DIAGNOSIS_MISSING", -1))
        if any(self.dx.get(d.strip().upper().replace(".", ""), 2) != 0 for d in c["diagnoses"]):
            out.add(("DIAGNOSIS_INVALID", -1))
        if c["claim_type"] == "professional" and has_noc and not has_admin:
            out.add(("ADMIN_CODE_MISSING", -1))
        if earliest is not None and (c["submission_date"] - earliest).days > p.filing_limit_days:
            out.add(("TIMELY_FILING", -1))
        total = c["total_charge"]
        if not (abs(total - line_sum) <= 0.01 + 1e-6):
            out.add(("CHARGE_INVALID", -1))
        return out


    def mue(self, c: dict[str, Any], p: Any) -> set[tuple[str, int]]:
        """UNITS_EXCEED_MUE line by line: indicator 1 per line, 2 and 3 summed per code and day and
        reported on the first line of the day."""
        from features.rules.facts import mue_setting

        setting = mue_setting(c["claim_type"], c["type_of_bill"])
        if setting is None or not p.mue:
            return set()
        out: set[tuple[str, int]] = set()
        days: dict[tuple[str, dt.date], list[Any]] = {}
        for ln in c["lines"]:
            code = (ln["procedure_code"] or "").strip().upper()
            if code in p.noc_codes:
                continue
            day = ln["service_date"] or c["submission_date"]
            limit, indicator = self.reference.mue(
                np.array([setting], dtype=object), np.array([code], dtype=object), np.array([day], dtype="datetime64[D]")
            )
            if indicator[0] == 0:
                continue
            units = ln["units"] if ln["units"] == ln["units"] else 0.0
            units = max(units, 0.0)
            if indicator[0] == 1:
                if units > limit[0] + 1e-6:
                    out.add(("UNITS_EXCEED_MUE", ln["line_number"]))
                continue
            group = days.setdefault((code, day), [ln["line_number"], 0.0, limit[0]])
            group[1] += units
        out |= {("UNITS_EXCEED_MUE", first) for first, total, limit in days.values() if total > limit + 1e-6}
        return out


def claims_as_dicts(frame: ClaimFrame) -> list[dict[str, Any]]:
    """Untimed: the per-claim dicts a naive implementation starts from."""
    L = frame.lines
    names = [k for k in LINE_COLUMNS if k not in ("submission_date", "service_date")]
    cols = {k: L[k].tolist() for k in names}
    service = [None if np.isnat(d) else d.astype(dt.date) for d in L["service_date"]]
    submission = L["submission_date"].astype(object).tolist()
    claims: list[dict[str, Any]] = [
        {"lines": [], "diagnoses": [], "attachments": []} for _ in range(frame.n_claims)
    ]
    for i in range(len(service)):
        c = claims[cols["claim_index"][i]]
        if not c["lines"]:
            for k in ("payer_id", "payer_type", "claim_type", "type_of_bill", "total_charge"):
                c[k] = cols[k][i]
            c["prior_authorization"] = cols["claim_prior_authorization"][i]
            c["submission_date"] = submission[i]
        line = {k: cols[k][i] for k in names}
        line["service_date"] = service[i]
        c["lines"].append(line)
    for ci, code in zip(frame.diagnoses["claim_index"].tolist(), frame.diagnoses["code"].tolist(), strict=True):
        claims[ci]["diagnoses"].append(code)
    att = frame.attachments
    for a in range(att["claim_index"].shape[0]):
        claims[int(att["claim_index"][a])]["attachments"].append(
            {"line_number": int(att["line_number"][a]), "report_type": att["report_type"][a],
             "transmission": att["transmission"][a]}
        )
    return claims


# ----------------------------------------------------------------------------------- helpers
def _median(fn: Callable[[], Any], repeats: int) -> float:
    return _medians(fn, repeats)[0]


def _medians(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process): on a shared machine the CPU time
    is the figure to compare between runs, the wall time the one a user waits for."""
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _jsonl_claims(n_claims: int, seed: int, path: Path) -> Path:
    """The first ``n_claims`` lines of ``$CLAIMRISK_BENCH_CLAIMS`` (or of data/synthetic/history),
    else a fresh synthetic history of that size (``claimrisk synth --seed 11``, as in the brief)."""
    existing = Path(os.environ.get("CLAIMRISK_BENCH_CLAIMS", "data/synthetic/history/claims.jsonl"))
    if existing.is_file() and os.environ.get("CI", "").lower() != "true":
        with existing.open("rb") as src, path.open("wb") as dst:
            for k, line in enumerate(src):
                if k >= n_claims:
                    break
                dst.write(line)
        return path
    from synthetic.history import write_history

    write_history(seed, n_claims, path.parent / "history")
    (path.parent / "history" / "claims.jsonl").replace(path)
    return path


def _cpu_seconds() -> float:
    """CPU of this process and of its finished children (the check workers), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def check_figures(n_claims: int, repeats: int = REPEATS) -> dict[str, Any]:
    """``claimrisk check`` with 1 and 2 worker processes against two plain parses of the same file:
    the plain Arrow JSON parse (``pyarrow.json.read_json`` with its defaults: the issue's floor is
    check <= 3.5x it) and an orjson-only parse (one ``orjson.loads`` per line, the stricter
    reference), measured in interleaved rounds so a change in the machine's load hits all of them
    alike; ratios are medians of per-round ratios. CPU includes the workers; the 1-minute load
    average is taken after each figure."""
    import pyarrow.json as pa_json

    from features.commands import WORKERS_ENV, check

    with tempfile.TemporaryDirectory() as tmp:
        jsonl = _jsonl_claims(n_claims, seed=11, path=Path(tmp) / "claims.jsonl")
        out = Path(tmp) / "out.jsonl"

        def parse_only() -> None:
            with jsonl.open("rb") as fh:
                for line in fh:
                    orjson.loads(line)

        def arrow_parse() -> None:
            pa_json.read_json(jsonl)

        def timed(run: Callable[[], Any]) -> tuple[float, float, float]:
            started, cpu = time.perf_counter(), _cpu_seconds()
            run()
            wall, used = time.perf_counter() - started, _cpu_seconds() - cpu
            return wall, used, os.getloadavg()[0]

        rounds: dict[str, list[tuple[float, float, float]]] = {
            "parse": [], "arrow_parse": [], "check_1": [], "check_2": []
        }
        outputs: dict[int, bytes] = {}
        saved = os.environ.get(WORKERS_ENV)
        try:
            with _parallel_for_any_size():  # forced, whatever the file size: the figures are about the workers
                for _ in range(repeats):
                    rounds["parse"].append(timed(parse_only))
                    rounds["arrow_parse"].append(timed(arrow_parse))
                    for workers in (1, 2):
                        os.environ[WORKERS_ENV] = str(workers)
                        rounds[f"check_{workers}"].append(timed(lambda: check(input_path=jsonl, output_path=out)))
                        outputs[workers] = out.read_bytes()
        finally:
            if saved is None:
                os.environ.pop(WORKERS_ENV, None)
            else:
                os.environ[WORKERS_ENV] = saved
        assert outputs[1] == outputs[2], "check wrote different output with 2 workers"
        n_checked = outputs[1].count(b"\n")

    def med(name: str, k: int) -> float:
        return statistics.median(r[k] for r in rounds[name])

    def ratio(name: str, k: int, base: str = "parse") -> float:
        return statistics.median(a[k] / b[k] for a, b in zip(rounds[name], rounds[base], strict=True))

    figures: dict[str, Any] = {"check_claims": n_checked, "check_repeats": repeats}
    for name in rounds:
        figures[f"{name}_s"] = round(med(name, 0), 3)
        figures[f"{name}_cpu_s"] = round(med(name, 1), 3)
        figures[f"{name}_load_1m"] = round(med(name, 2), 2)
    for name in ("check_1", "check_2"):
        figures[f"{name}_vs_parse_ratio"] = round(ratio(name, 0), 2)
        figures[f"{name}_cpu_vs_parse_cpu_ratio"] = round(ratio(name, 1), 2)
        figures[f"{name}_vs_arrow_parse_ratio"] = round(ratio(name, 0, "arrow_parse"), 2)
        figures[f"{name}_cpu_vs_arrow_parse_cpu_ratio"] = round(ratio(name, 1, "arrow_parse"), 2)
    figures["check_1_claims_per_s"] = round(n_checked / med("check_1", 0))
    figures["check_rounds"] = [
        {name: tuple(round(v, 3) for v in rounds[name][k]) for name in rounds} for k in range(repeats)
    ]
    return figures


@contextlib.contextmanager
def _parallel_for_any_size() -> Iterator[None]:
    from claims import parallel

    saved = parallel.MIN_FILE_BYTES
    parallel.MIN_FILE_BYTES = 0
    try:
        yield
    finally:
        parallel.MIN_FILE_BYTES = saved


def main() -> dict[str, Any]:
    ci = os.environ.get("CI", "").lower() == "true"
    n_lines = 50_000 if ci else 1_000_000
    n_json_claims = 5_000 if ci else 200_000
    n_loop_lines = 10_000 if ci else 100_000

    from features.rules.engine import default_policies, default_reference, evaluate
    from features.transformer import ClaimFeaturizer

    policies, reference = default_policies(), default_reference()
    frame = synthetic_frame(n_lines, seed=1)
    y = (np.random.default_rng(2).random(frame.n_claims) < 0.3).astype(float)
    featurizer = ClaimFeaturizer().fit(frame, y)
    featurizer.transform_with_rules(frame.take(np.arange(min(1000, frame.n_claims))))  # warm caches

    rules_s, rules_cpu = _medians(lambda: evaluate(frame, policies=policies, reference=reference), REPEATS)
    both_s, both_cpu = _medians(lambda: featurizer.transform_with_rules(frame), REPEATS)

    # naive loop on a subset, equality checked on a sample
    n_sub = int(np.searchsorted(np.cumsum(np.bincount(frame.lines["claim_index"])), n_loop_lines)) + 1
    sub = frame.take(np.arange(min(n_sub, frame.n_claims)))
    dicts = claims_as_dicts(sub)
    naive = NaiveRules(policies, reference)
    loop_s = _median(lambda: [naive.claim(c) for c in dicts], REPEATS)
    fired = evaluate(sub, policies=policies, reference=reference)
    vectorized = [set() for _ in range(sub.n_claims)]  # type: list[set[tuple[str, int]]]
    for c, r, ln in zip(fired.claim_index.tolist(), fired.rule_ids.tolist(), fired.line_number.tolist(), strict=True):
        vectorized[c].add((r, ln))
    sample = range(0, sub.n_claims, max(1, sub.n_claims // 2000))
    mismatches = [i for i in sample if naive.claim(dicts[i]) != vectorized[i]]
    assert not mismatches, f"naive and vectorized rules differ on claims {mismatches[:5]}"

    checked = check_figures(n_json_claims)

    # one claim through rules + features
    one = frame.take([3])
    for _ in range(200):
        featurizer.transform_with_rules(one)
    samples, cpu_samples = [], []
    for _ in range(2000 if not ci else 500):
        started, cpu = time.perf_counter_ns(), time.thread_time_ns()
        featurizer.transform_with_rules(one)
        cpu_samples.append(time.thread_time_ns() - cpu)
        samples.append(time.perf_counter_ns() - started)
    p50, p99 = np.percentile(samples, [50, 99]) / 1e3
    cpu_p50, cpu_p99 = np.percentile(cpu_samples, [50, 99]) / 1e3

    lines_loop = sub.n_lines
    results = {
        "lines": frame.n_lines,
        "claims": frame.n_claims,
        "features": featurizer.n_features_out_,
        "rules_lines_per_s": round(frame.n_lines / rules_s),
        "rules_lines_per_cpu_s": round(frame.n_lines / rules_cpu),
        "rules_features_lines_per_s": round(frame.n_lines / both_s),
        "rules_features_lines_per_cpu_s": round(frame.n_lines / both_cpu),
        "rules_features_s": round(both_s, 3),
        "naive_loop_lines": lines_loop,
        "naive_loop_lines_per_s": round(lines_loop / loop_s),
        "vectorized_vs_naive_ratio": round((frame.n_lines / rules_s) / (lines_loop / loop_s), 1),
        "naive_equal_on_sample": len(list(sample)),
        "check_claims": checked["check_claims"],
        "check_s": checked["check_1_s"],
        "check_2_workers_s": checked["check_2_s"],
        "orjson_parse_s": checked["parse_s"],
        "check_vs_parse_ratio": checked["check_1_vs_parse_ratio"],
        "check_2_workers_vs_parse_ratio": checked["check_2_vs_parse_ratio"],
        "check_cpu_vs_parse_cpu_ratio": checked["check_1_cpu_vs_parse_cpu_ratio"],
        "check_2_workers_cpu_vs_parse_cpu_ratio": checked["check_2_cpu_vs_parse_cpu_ratio"],
        "arrow_parse_s": checked["arrow_parse_s"],
        "check_vs_arrow_parse_ratio": checked["check_1_vs_arrow_parse_ratio"],
        "check_2_workers_vs_arrow_parse_ratio": checked["check_2_vs_arrow_parse_ratio"],
        "check_load_1m": checked["check_1_load_1m"],
        "single_claim_us_p50": round(float(p50), 1),
        "single_claim_us_p99": round(float(p99), 1),
        "single_claim_cpu_us_p50": round(float(cpu_p50), 1),
        "single_claim_cpu_us_p99": round(float(cpu_p99), 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "repeats": REPEATS,
    }
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    return results


def main_check() -> dict[str, Any]:
    """Only the ``check`` figures: ``python -m benchmarks.bench_features check``."""
    figures = check_figures(5_000 if os.environ.get("CI", "").lower() == "true" else 200_000)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return figures


if __name__ == "__main__":
    main_check() if sys.argv[1:] == ["check"] else main()
