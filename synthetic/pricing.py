"""Billed units, NDC quantities and charges of every line: the dose as the provider meant it, and
the ways the bill departs from it.

The dose is a count of packages (items) times the crosswalk's billing units per package, held within
the code's Medically Unlikely Edit by careful providers (``synthetic.mue``); what goes wrong is
wrong units on coded drugs, dose units instead of 1 on NOC lines, units past the MUE, and a claim
total that disagrees with its lines. Charges follow the billed units, so an excess costs more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from synthetic import mue as mue_edit
from synthetic.world import World

ML_SHARE = 0.3


class _Layout(Protocol):
    """What pricing reads of the claims and their lines (``generate._Header``)."""

    provider: np.ndarray
    provider_l: np.ndarray
    line_claim: np.ndarray
    quarter: np.ndarray
    drug: np.ndarray
    is_admin: np.ndarray


class _Codes(Protocol):
    """What pricing reads of each line's coding (``generate._Coding``)."""

    pidx: np.ndarray
    is_noc: np.ndarray
    procedure: np.ndarray
    admin_fee: np.ndarray


def habit(world: World, provider: np.ndarray, name: str) -> np.ndarray:
    """Each row's provider's rate for one of the catalog's habits."""
    return world.providers.habits[provider, world.habit_names.index(name)]


@dataclass
class Pricing:
    """Billed units, NDC quantity and unit as the provider meant them, and the charges."""

    units: np.ndarray
    wrong_units: np.ndarray
    noc_units: np.ndarray
    quantity: np.ndarray
    drug_unit: np.ndarray
    charge_cents: np.ndarray
    total_cents: np.ndarray
    charge_mismatch: np.ndarray
    mue_excess: np.ndarray  # the line the MUE edit denies (CONTRACT §3), whatever put it past the MUE


def price_lines(
    world: World, rng: np.random.Generator, head: _Layout, code: _Codes, u: np.ndarray,
    mue: tuple[mue_edit.LineMue, mue_edit.ExcessPlan],
) -> Pricing:
    """Units, NDC quantity and charges (``u`` rows 3-6; ``mue``: each line's edit and the planned
    excesses). A line dosed within or past its MUE keeps its NDC quantity in step with its units
    (fractions of a package where one package is past the MUE), so only the MUE edit sees it."""
    prod_, prov = world.products, world.providers
    n, n_total = head.provider.size, head.line_claim.size
    pidx, is_noc, drug = code.pidx, code.is_noc, head.drug
    lq = head.quarter[head.line_claim]
    items = np.minimum(1 + rng.poisson(0.7, n_total), 6)
    bu_q = prod_.bill_units[pidx, lq]
    bu_any = np.nanmax(np.where(np.isfinite(prod_.bill_units[pidx]), prod_.bill_units[pidx], -np.inf), axis=1)
    bu = np.where(np.isfinite(bu_q), bu_q, np.where(np.isfinite(bu_any) & (bu_any > 0), bu_any, 1.0))
    correct_units = np.maximum(1.0, np.round(items * bu))
    limits, plan = mue
    dosed = mue_edit.dose_within(correct_units, limits, head.line_claim, code.procedure)
    dosed = mue_edit.bill_excess(dosed, limits, plan, code.procedure)
    items = np.where(dosed != correct_units, dosed / bu, items)
    correct_units = dosed
    units = np.where(is_noc, 1.0, correct_units)
    wrong_units = drug & ~is_noc & (u[3] < habit(world, head.provider_l, "wrong_units"))
    units = np.where(wrong_units, correct_units * np.where(u[4] < 0.5, 10.0, 3.0), units)
    noc_units = is_noc & (u[5] < habit(world, head.provider_l, "noc_units"))
    units = np.where(noc_units, np.maximum(2.0, correct_units), units)
    units[head.is_admin] = 1.0

    pkg = prod_.pkg_size[pidx]
    use_ml = drug & (u[6] < ML_SHARE) & np.isfinite(pkg) & (pkg > 0)
    quantity = np.where(use_ml, np.round(items * np.nan_to_num(pkg, nan=1.0), 3), np.round(items, 3))
    drug_unit = np.where(use_ml, "ML", "UN").astype(object)

    markup = prov.markup[head.provider_l]
    drug_price = np.where(is_noc, prod_.unit_price[pidx] * bu * items, prod_.unit_price[pidx] * units)
    noisy = markup * rng.lognormal(0.0, 0.1, n_total)
    charge = np.where(head.is_admin, code.admin_fee[head.line_claim] * noisy, drug_price * noisy)
    charge_cents = np.maximum(np.round(charge * 100.0), 500).astype(np.int64)
    total_cents = np.bincount(head.line_claim, weights=charge_cents, minlength=n).astype(np.int64)
    charge_mismatch = rng.random(n) < habit(world, head.provider, "charge_mismatch")
    total_cents = total_cents + np.where(charge_mismatch, rng.integers(100, 5000, n), 0)
    return Pricing(
        units=units, wrong_units=wrong_units, noc_units=noc_units,
        quantity=quantity, drug_unit=drug_unit, charge_cents=charge_cents, total_cents=total_cents,
        charge_mismatch=charge_mismatch,
        mue_excess=mue_edit.excess(units, limits, head.line_claim, code.procedure),
    )
