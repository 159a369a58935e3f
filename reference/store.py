"""``load_reference()``: the crosswalk and payment limits in memory, with vectorized lookups.

Every lookup runs on two very different paths: one claim scored on the API (must cost
microseconds) and a million-line batch (must run at millions of rows a second). Batches are
factorized (``pd.factorize``, one hash pass), the few distinct values are mapped to integer ids
through dicts built once at load, and rows are answered by fancy indexing into dense tables built
at load. Nothing loops per row; arrays of up to 32 values skip the factorization, whose fixed cost
would dominate a single claim.

Quarters are chosen by date: a claim is checked against the crosswalk that CMS made effective on
its service date, since NDC-HCPCS pairs appear and disappear from quarter to quarter.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reference import compact, icd10
from reference.mue import MueIndex, build_index, read_stored

_NO_CODES: tuple[str, ...] = ()


# Below this many values a dict lookup per value beats factorizing (whose fixed cost is ~20 us);
# this is what keeps the one-claim scoring path in microseconds.
_SMALL_BATCH = 32


def _normal_code(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _ids(
    values: np.ndarray, mapping: dict[str, int], *, normalise: bool = False, missing: int = -1
) -> np.ndarray:
    """Map an object array through ``mapping`` (unknown/None -> ``missing``), one dict lookup per
    distinct value.

    ``normalise`` upper-cases and trims first (HCPCS codes arrive as "j9035 " from some sources).
    """
    flat = np.asarray(values, dtype=object).ravel()
    if flat.size <= _SMALL_BATCH:
        items = [_normal_code(v) for v in flat.tolist()] if normalise else flat.tolist()
        return np.fromiter(
            (mapping.get(v, missing) if isinstance(v, str) else missing for v in items), np.int64, len(items)
        )
    codes, uniques = pd.factorize(flat, use_na_sentinel=True)
    distinct = [_normal_code(u) for u in uniques] if normalise else uniques.tolist()
    lookup = np.empty(len(distinct) + 1, dtype=np.int64)
    lookup[:-1] = [mapping.get(u, missing) if isinstance(u, str) else missing for u in distinct]
    lookup[-1] = missing  # the NA sentinel
    return lookup[codes]


@dataclass(frozen=True, eq=False)
class ReferenceData:
    """All reference data the rules, features and synthetic payers use, loaded once per process.

    ``crosswalk`` rows are unique per (quarter, ndc11, hcpcs), sorted by quarter, hcpcs, ndc11;
    string columns use pandas' ``str`` dtype, the effective dates ``datetime64[ms]`` (pandas has no
    day unit; ``quarter_starts``/``quarter_ends`` give them as ``datetime64[D]``).
    """

    crosswalk: pd.DataFrame
    # the latest payment-limit quarter: hcpcs, description, dosage, payment_limit, coinsurance_pct
    payment_limits: pd.DataFrame
    payment_limit_history: pd.DataFrame  # every imported payment-limit quarter
    quarters: list[str]
    quarter_starts: np.ndarray  # datetime64[D], one per quarter, sorted
    quarter_ends: np.ndarray
    drug_hcpcs: frozenset[str]
    versions: dict[str, str]
    version: str
    manifest: dict[str, Any] = field(repr=False)
    # Lookup structures (built once by build_reference). A "pair" is (quarter, NDC), found through
    # a dense table indexed by quarter and NDC id: 9 quarters x ~15k NDCs is ~140k int32 slots, so
    # a lookup is one fancy index, no search. A pair's crosswalk rows are contiguous ("entries").
    _later_starts: np.ndarray = field(repr=False)  # quarter_starts[1:]
    _ndc_ids: dict[str, int] = field(repr=False)
    _hcpcs_ids: dict[str, int] = field(repr=False)
    _pair_row: np.ndarray = field(repr=False)  # quarter * (n_ndc + 1) + ndc id -> pair number, -1 absent
    _pair_codes: np.ndarray = field(repr=False)  # pair number -> tuple of HCPCS; last = ()
    _pair_start: np.ndarray = field(repr=False)  # pair number -> first entry; last = 0
    _pair_count: np.ndarray = field(repr=False)  # pair number -> number of entries; last = 0
    _entry_hcpcs: np.ndarray = field(repr=False)  # entry -> hcpcs id
    _entry_units: np.ndarray = field(repr=False)  # entry -> BILLUNITS
    _entry_package_size: np.ndarray = field(repr=False)  # entry -> PKG SIZE (e.g. mL in one item), NaN unknown
    _limit_by_hcpcs: np.ndarray = field(repr=False)  # payment limit by hcpcs id, plus NaN at the end
    _mue: MueIndex = field(repr=False)  # every stored MUE table, by setting and effective date

    # ---- dates -> quarters
    def quarter_index(self, dates: np.ndarray) -> np.ndarray:
        """Index into ``quarters`` of the quarter effective on each date.

        Before the first quarter -> 0, after the last -> the last; a date in a gap between imported
        quarters takes the latest quarter that started before it; NaT -> the last quarter.
        """
        days = np.asarray(dates).astype("datetime64[D]", copy=False).ravel()
        # searching the starts of quarters 2..n gives 0 before quarter 2 (so also before the first)
        # and n-1 from the last start on; NumPy sorts NaT after every date, so NaT -> n-1 as well
        return np.searchsorted(self._later_starts, days, side="right").astype(np.int64, copy=False)

    # ---- crosswalk lookups
    def _pairs(self, quarter_idx: np.ndarray, ndc11: np.ndarray) -> np.ndarray:
        """Pair number per row (-1 when the NDC is not in that quarter's crosswalk)."""
        quarter = np.asarray(quarter_idx, dtype=np.int64).ravel()
        width = len(self._ndc_ids) + 1  # NDC ids, then one always-absent column for unknown NDCs
        ndc = _ids(ndc11, self._ndc_ids, missing=width - 1)
        if quarter.shape != ndc.shape:
            raise ValueError(f"quarter_idx has {quarter.size} rows but ndc11 has {ndc.size}")
        if quarter.size and (quarter.min() < 0 or quarter.max() >= len(self.quarters)):
            raise ValueError("quarter_idx out of range: use quarter_index(dates)")
        return self._pair_row[quarter * width + ndc]

    def codes_for_ndc(self, quarter_idx: np.ndarray, ndc11: np.ndarray) -> np.ndarray:
        """Per row, the tuple of HCPCS codes CMS lists the NDC under in that quarter (``()`` if none)."""
        return self._pair_codes[self._pairs(quarter_idx, ndc11)]  # -1 picks the trailing ()

    def bill_units(self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray) -> np.ndarray:
        """Per row, BILLUNITS (HCPCS units per NDC item) for the (NDC, HCPCS) pair; NaN when not listed."""
        return self._units(self._pairs(quarter_idx, ndc11), hcpcs)

    def codes_and_bill_units(
        self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``codes_for_ndc`` and ``bill_units`` together, hashing the NDCs once (the costly part)."""
        pair = self._pairs(quarter_idx, ndc11)
        return self._pair_codes[pair], self._units(pair, hcpcs)

    def bill_units_and_package_size(
        self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row, BILLUNITS and PKG SIZE (the amount in one NDC item, e.g. 5 for a 5 mL vial) for
        the (NDC, HCPCS) pair; NaN when not listed. Together they turn a quantity in mL into billing
        units (mL / PKG SIZE x BILLUNITS), which the contract's UN-only unit rule cannot check."""
        pair = self._pairs(quarter_idx, ndc11)
        return self._units(pair, hcpcs), self._units(pair, hcpcs, self._entry_package_size)

    def _units(self, pair: np.ndarray, hcpcs: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        values = self._entry_units if values is None else values
        code = _ids(hcpcs, self._hcpcs_ids, normalise=True)
        if code.shape != pair.shape:
            raise ValueError(f"hcpcs has {code.size} rows but ndc11 has {pair.size}")
        start = self._pair_start[pair]
        count = self._pair_count[pair]
        units = np.full(pair.shape, np.nan)
        # an NDC has 1 code in ~98% of pairs and at most a handful: one pass per position
        rows = np.flatnonzero(count > 0)
        offset = 0
        while rows.size:
            entry = start[rows] + offset
            hit = self._entry_hcpcs[entry] == code[rows]
            units[rows[hit]] = values[entry[hit]]
            offset += 1
            rows = rows[(count[rows] > offset) & ~hit]
        return units

    def payment_limit(self, hcpcs: np.ndarray) -> np.ndarray:
        """Per row, the latest payment limit in $ per HCPCS unit; NaN for codes without one (e.g. NOC)."""
        return self._limit_by_hcpcs[_ids(hcpcs, self._hcpcs_ids, normalise=True)]

    # ---- Medically Unlikely Edits
    def _mue_lookup(
        self, setting: np.ndarray, hcpcs: np.ndarray, service_date: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = self._mue
        code = _ids(hcpcs, index.codes, normalise=True, missing=len(index.codes))
        kind = _ids(setting, index.settings)
        days = np.asarray(service_date).astype("datetime64[D]", copy=False).ravel()
        if not code.shape == kind.shape == days.shape:
            raise ValueError(f"setting, hcpcs and service_date have {kind.size}, {code.size}, {days.size} rows")
        return index.lookup(kind, code, days)

    def mue(
        self, setting: np.ndarray, hcpcs: np.ndarray, service_date: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the MUE units (float64, NaN when the code has none) and adjudication indicator
        (int8 1 line, 2/3 date of service; 0 when none) of the table in force on the service date.

        ``setting`` is "practitioner" (837P) or "outpatient" (837I outpatient bills); anything else
        (inpatient, None) has no MUE. Dates before the earliest table take the earliest one.
        """
        values, indicators, _ = self._mue_lookup(setting, hcpcs, service_date)
        return values, indicators

    def mue_effective(self, setting: np.ndarray, hcpcs: np.ndarray, service_date: np.ndarray) -> np.ndarray:
        """Per row, the effective date ("2026-04-01") of the MUE table that answered ``mue``, or None
        when no table has the code: evidence can say which edit a line was held to."""
        values, _, table = self._mue_lookup(setting, hcpcs, service_date)
        dates = np.asarray(self._mue.table_effective.astype(str).tolist() + [None], dtype=object)
        return dates[np.where(np.isnan(values), -1, table)]


def _quarter_range(quarters: list[str]) -> str:
    if not quarters:
        return "none"
    return quarters[0] if len(quarters) == 1 else f"{quarters[0]}..{quarters[-1]}"


def _version(versions: dict[str, str], manifest: dict[str, Any]) -> str:
    """Short, stable id of the exact data: the quarter ranges plus a digest of the source files."""
    sources: dict[str, Any] = {
        kind: {q: entry.get("sha256") for q, entry in sorted(manifest.get(kind, {}).items())}
        for kind in ("crosswalk", "payment_limit", "mue")
    }
    sources["icd10cm"] = manifest.get("icd10cm", {}).get("sha256", {})
    sources["loader"] = manifest.get("loader")
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:8]
    return (
        f"xw{versions['crosswalk'].replace('..', '-')}"
        f".pl{versions['payment_limit'].replace('..', '-')}"
        f".icd{versions['icd10cm']}"
        f".mue{versions['mue'].replace('..', '-')}.{digest}"
    )


def _to_days(column: pd.Series) -> np.ndarray:
    return column.to_numpy().astype("datetime64[D]")


@dataclass(frozen=True)
class _PairIndex:
    """The crosswalk as dense lookup tables (the ``_pair_*`` and ``_entry_*`` fields of ReferenceData)."""

    ndc_ids: dict[str, int]
    pair_row: np.ndarray
    pair_codes: np.ndarray
    pair_start: np.ndarray
    pair_count: np.ndarray
    entry_hcpcs: np.ndarray
    entry_units: np.ndarray
    entry_package_size: np.ndarray


def _codes_per_pair(codes_sorted: np.ndarray, starts_at: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Tuple of HCPCS codes per pair, plus ``()`` at the end for the absent pair (-1)."""
    n_pairs = len(starts_at)
    pair_codes = np.empty(n_pairs + 1, dtype=object)
    single = counts == 1  # ~98% of NDCs have one code: build those tuples in C (zip)
    pair_codes[:-1][single] = np.fromiter(
        zip(codes_sorted[starts_at[single]].tolist()), dtype=object, count=int(single.sum())
    )
    pair_codes[:-1][~single] = np.fromiter(
        (
            tuple(codes_sorted[a : a + c].tolist())
            for a, c in zip(starts_at[~single], counts[~single], strict=True)
        ),
        dtype=object,
        count=int((~single).sum()),
    )
    pair_codes[-1] = _NO_CODES
    return pair_codes


def _index_pairs(crosswalk: pd.DataFrame, quarters: list[str], all_hcpcs: list[str]) -> _PairIndex:
    """Number the (quarter, NDC) pairs of the sorted crosswalk, lay their entries out contiguously,
    and build the dense (quarter, NDC id) -> pair table the lookups index into."""
    ndc_no, ndc_uniques = pd.factorize(crosswalk["ndc11"].to_numpy(dtype=object), sort=True)
    ndcs = ndc_uniques.tolist()
    quarter_no = pd.Categorical(crosswalk["quarter"], categories=quarters).codes.astype(np.int64)
    code_no = pd.Index(all_hcpcs).get_indexer(pd.Index(crosswalk["hcpcs"].to_numpy(dtype=object))).astype(np.int64)
    pair = quarter_no * len(ndcs) + ndc_no.astype(np.int64)
    triple = pair * len(all_hcpcs) + code_no

    order = np.argsort(triple, kind="stable")
    entry_pair = pair[order]  # entries sorted by (quarter, ndc, hcpcs): each pair's entries contiguous
    package = crosswalk["pkg_size"] if "pkg_size" in crosswalk else pd.Series(np.nan, index=crosswalk.index)
    starts_at = np.flatnonzero(np.r_[True, entry_pair[1:] != entry_pair[:-1]])
    counts = np.diff(np.r_[starts_at, len(entry_pair)])
    # dense (quarter, ndc id) -> pair number, with one extra always-absent ndc column per quarter
    pair_row = np.full(len(quarters) * (len(ndcs) + 1), -1, dtype=np.int32)
    first = entry_pair[starts_at]
    pair_row[(first // len(ndcs)) * (len(ndcs) + 1) + first % len(ndcs)] = np.arange(len(starts_at), dtype=np.int32)
    return _PairIndex(
        ndc_ids={ndc: i for i, ndc in enumerate(ndcs)},
        pair_row=pair_row,
        pair_codes=_codes_per_pair(crosswalk["hcpcs"].to_numpy(dtype=object)[order], starts_at, counts),
        pair_start=np.append(starts_at, 0).astype(np.int64),
        pair_count=np.append(counts, 0).astype(np.int64),
        entry_hcpcs=code_no[order].astype(np.int32),
        entry_units=crosswalk["bill_units"].to_numpy(dtype=np.float64)[order],
        entry_package_size=pd.to_numeric(package, errors="coerce").to_numpy(dtype=np.float64)[order],
    )


def build_reference(
    crosswalk: pd.DataFrame,
    payment_limits: pd.DataFrame,
    manifest: dict[str, Any],
    icd10_release: str,
    mue: pd.DataFrame | None = None,
) -> ReferenceData:
    """Index loaded tables for lookups (separate from file reading so tests can build small ones).

    ``mue`` is the stored MUE tables (``reference.mue.MUE_COLUMNS``); None means none.
    """
    mue_index = build_index(mue)
    crosswalk = crosswalk.sort_values(["quarter", "hcpcs", "ndc11"], kind="stable").reset_index(drop=True)
    crosswalk = crosswalk.drop_duplicates(["quarter", "ndc11", "hcpcs"]).reset_index(drop=True)
    by_quarter = crosswalk.drop_duplicates("quarter")[["quarter", "effective_start", "effective_end"]]
    quarters = by_quarter["quarter"].tolist()
    if not quarters:
        raise ValueError("the reference data has no crosswalk quarter")
    starts = _to_days(by_quarter["effective_start"])

    history = payment_limits.sort_values(["quarter", "hcpcs"], kind="stable").reset_index(drop=True)
    latest_limit_quarter = history["quarter"].max() if len(history) else None
    latest = history[history["quarter"] == latest_limit_quarter].reset_index(drop=True)

    all_hcpcs = sorted(set(crosswalk["hcpcs"].tolist()) | set(history["hcpcs"].tolist()))
    hcpcs_ids = {code: i for i, code in enumerate(all_hcpcs)}
    index = _index_pairs(crosswalk, quarters, all_hcpcs)
    limit_by_hcpcs = np.full(len(all_hcpcs) + 1, np.nan)
    if len(latest):
        limit_by_hcpcs[[hcpcs_ids[c] for c in latest["hcpcs"]]] = latest["payment_limit"].to_numpy(np.float64)

    versions = {
        "crosswalk": _quarter_range(quarters),
        "payment_limit": str(latest_limit_quarter) if latest_limit_quarter else "none",
        "icd10cm": icd10_release,
        "mue": mue_index.version,
    }
    view = crosswalk.copy()
    view["ndc11"] = view["ndc11"].astype("str")
    return ReferenceData(
        crosswalk=view,
        payment_limits=latest,
        payment_limit_history=history,
        quarters=quarters,
        quarter_starts=starts,
        quarter_ends=_to_days(by_quarter["effective_end"]),
        drug_hcpcs=frozenset(all_hcpcs),
        versions=versions,
        version=_version(versions, manifest),
        manifest=manifest,
        _later_starts=starts[1:].copy(),
        _ndc_ids=index.ndc_ids,
        _hcpcs_ids=hcpcs_ids,
        _pair_row=index.pair_row,
        _pair_codes=index.pair_codes,
        _pair_start=index.pair_start,
        _pair_count=index.pair_count,
        _entry_hcpcs=index.entry_hcpcs,
        _entry_units=index.entry_units,
        _entry_package_size=index.entry_package_size,
        _limit_by_hcpcs=limit_by_hcpcs,
        _mue=mue_index,
    )


def load_reference_uncached() -> ReferenceData:
    """Read the compact files now (honouring ``CLAIMRISK_REFERENCE_DIR``); prefer ``load_reference``."""
    crosswalk = compact.read_table(compact.CROSSWALK_FILE, compact.CROSSWALK_COLUMNS)
    payment_limits = compact.read_table(compact.PAYMENT_LIMIT_FILE, compact.PAYMENT_LIMIT_COLUMNS)
    manifest = compact.read_manifest()
    return build_reference(crosswalk, payment_limits, manifest, icd10.load_table().release, read_stored())


@functools.cache
def load_reference() -> ReferenceData:
    """The process-wide reference data; ``load_reference.cache_clear()`` after an import."""
    return load_reference_uncached()
