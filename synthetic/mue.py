"""CMS Medically Unlikely Edits in the simulated market: doses within them, and excesses past them.

An MUE is the most units of a code one patient gets on one date of service (CONTRACT §3,
``UNITS_EXCEED_MUE``): indicator 1 edits each line, 2 and 3 the units of all the claim's lines of
the code on that date. The generator reads the same CMS tables the rule engine does
(``reference.store.ReferenceData.mue``: practitioner for 837P, outpatient hospital for the 837I
bills, all type 131 here) but never the rule itself, so it states the edit in its own words here.

Careful providers dose within the edit: without that cap the package counts the dose is drawn from
(up to six packages) would put one drug line in ten past its MUE, an excess no payer of this world
denies. Providers then bill past it at a habit rate of their own, on one line or, for a
date-of-service edit, split over two lines of the same drug (each within the MUE, their sum past
it), and payers deny the excess (CO-151 + N362) unless their policy does not apply the MUEs.

The habit and hazard were added to a generator whose histories were already in use, so they draw
from ``SeedSequence([seed, catalog.OWN_STREAM_KEY, ...])``: every draw the generator made before stays where it
was, and a seed's history changes only where the MUE changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import catalog as cat
from synthetic.world import World, own_stream

EPS = 1e-6  # billed units are whole numbers; this only absorbs float noise at the limit
# own_stream keys: 1 is the payers' hazard (world._mue_hazard)
_PROVIDER_RATES, _BATCH_PLAN, _BATCH_ADJUDICATION = 0, 2, 3


def adjudication_stream(seed: int, start: int) -> np.random.Generator:
    """The stream that decides which MUE excesses of the batch starting at ``start`` are denied."""
    return own_stream(seed, _BATCH_ADJUDICATION, start)


def provider_rates(world: World) -> np.ndarray:
    """Per provider, how often it bills a drug line past the code's MUE (as the catalog's habits)."""
    prov = world.providers
    spread = own_stream(world.seed, _PROVIDER_RATES).lognormal(0.0, 0.5, prov.npi.size)
    return np.clip(cat.MUE_HABIT * spread * np.where(prov.sloppy, cat.SLOPPY_FACTOR, 1.0), 0.0, 0.8)


@dataclass(frozen=True)
class LineMue:
    """The edit each line is held to."""

    limit: np.ndarray  # float per line: the MUE in units, NaN where no edit applies
    per_day: np.ndarray  # bool per line: indicator 2 or 3 (the claim's lines of the code are summed)


def lookup(world: World, institutional_l: np.ndarray, code: np.ndarray, day_l: np.ndarray,
           coded: np.ndarray) -> LineMue:
    """The MUE of each ``coded`` line's code in its setting on its date of service."""
    n = code.shape[0]
    limit = np.full(n, np.nan)
    per_day = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(coded)
    if rows.size:
        setting = np.where(institutional_l[rows], "outpatient", "practitioner").astype(object)
        values, indicator = world.reference.mue(setting, code[rows], day_l[rows])
        has = indicator > 0
        limit[rows[has]] = values[has]
        per_day[rows[has]] = indicator[has] != 1
    return LineMue(limit=limit, per_day=per_day)


@dataclass(frozen=True)
class ExcessPlan:
    """Which lines the providers bill past the MUE."""

    over: np.ndarray  # bool per line: billed past the MUE on its own
    split: np.ndarray  # bool per line: the excess is shared with the next line, which bills the same drug
    factor: np.ndarray  # float per line: billed units (the pair's sum, for a split) / the MUE


def plan_excess(
    world: World, start: int, line_claim: np.ndarray, provider_l: np.ndarray, coding: tuple[np.ndarray, np.ndarray],
    mue: LineMue,
) -> tuple[tuple[np.ndarray, np.ndarray], LineMue, ExcessPlan]:
    """Draw the excesses among the lines ``mue`` edits. The line after the first of a split pair
    (a coded drug line of the same claim) then bills the first line's product under its code: only
    coded lines are paired, so no defect of the line (all drawn before) changes with its drug.
    ``coding`` is each line's (product, procedure code), returned with the pairs' second lines changed."""
    n = line_claim.size
    v = own_stream(world.seed, _BATCH_PLAN, start).random((3, n))
    edited = np.isfinite(mue.limit)
    over = edited & (v[0] < provider_rates(world)[provider_l])
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    has_next = (nxt > np.arange(n)) & (line_claim[nxt] == line_claim) & edited[nxt]
    split = over & mue.per_day & has_next & (v[1] < cat.MUE_SPLIT_SHARE)
    split &= ~np.roll(split, 1)  # a line that repeats its predecessor's drug starts no pair of its own
    second = np.roll(split, 1)
    over &= ~second
    product, procedure = (column.copy() for column in coding)
    limit, per_day = mue.limit.copy(), mue.per_day.copy()
    for column in (product, procedure, limit, per_day):
        column[second] = column[split]
    factor = np.where(split, 1.2 + 0.7 * v[2], 1.25 + 1.75 * v[2])
    plan = ExcessPlan(over=over & ~split, split=split, factor=factor)
    return (product, procedure), LineMue(limit=limit, per_day=per_day), plan


def _day_groups(line_claim: np.ndarray, code: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Group of each of ``rows`` by (claim, code): all lines of a claim share its date of service.
    Groups are numbered by their first row, so a group's first row is its first line as sent."""
    _, code_id = np.unique(code[rows].astype(str), return_inverse=True)
    key = line_claim[rows].astype(np.int64) * (int(code_id.max(initial=0)) + 1) + code_id
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first, kind="stable"), kind="stable")[group]


def dose_within(units: np.ndarray, mue: LineMue, line_claim: np.ndarray, code: np.ndarray) -> np.ndarray:
    """The careful provider's units: each line within its MUE, and for a date-of-service edit the
    claim's lines of the code scaled down together (whole units, at least one per line)."""
    limit = mue.limit
    out = units.copy()
    single = np.flatnonzero(np.isfinite(limit) & ~mue.per_day)
    out[single] = np.maximum(1.0, np.minimum(units[single], limit[single]))
    rows = np.flatnonzero(np.isfinite(limit) & mue.per_day)
    if rows.size:
        group = _day_groups(line_claim, code, rows)
        total = np.bincount(group, weights=units[rows])[group]
        scale = np.minimum(1.0, limit[rows] / total)
        out[rows] = np.where(scale < 1.0, np.maximum(1.0, np.floor(units[rows] * scale + EPS)), units[rows])
    return out


def bill_excess(units: np.ndarray, mue: LineMue, plan: ExcessPlan, code: np.ndarray) -> np.ndarray:
    """Units after the planned excesses: ``factor`` × the MUE on one line (at least one unit past
    it), or that total split over a pair of lines of one code, each within the MUE. A pair whose
    lines did not end up under one code with a date-of-service edit bills the excess on its first."""
    limit = mue.limit
    n = units.size
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    pair = plan.split & np.isfinite(limit) & mue.per_day & (code[nxt] == code) & (nxt > np.arange(n))
    single = (plan.over | (plan.split & ~pair)) & np.isfinite(limit)
    out = units.copy()
    out[single] = np.maximum(limit[single] + 1.0, np.ceil(limit[single] * plan.factor[single] - EPS))
    first = np.flatnonzero(pair)
    total = np.maximum(limit[first] + 1.0, np.ceil(limit[first] * plan.factor[first] - EPS))
    out[first] = np.minimum(limit[first], np.ceil(total / 2.0))
    out[first + 1] = total - out[first]
    return out


def excess(units: np.ndarray, mue: LineMue, line_claim: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Per line, whether the MUE edit denies it: indicator 1, its units past the MUE; 2 and 3, the
    units of the claim's lines of the code past it, on the first of those lines (as CONTRACT §3)."""
    limit = mue.limit
    out = np.isfinite(limit) & ~mue.per_day & (units > limit + EPS)
    rows = np.flatnonzero(np.isfinite(limit) & mue.per_day)
    if rows.size:
        group = _day_groups(line_claim, code, rows)
        total = np.bincount(group, weights=units[rows])
        first = rows[np.unique(group, return_index=True)[1]]
        over = total > limit[first] + EPS
        out[first[over]] = True
    return out
