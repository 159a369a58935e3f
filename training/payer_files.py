"""The files of ``claimrisk payers``: payers.json, a Markdown report and its PNG plots.

Built from the report's JSON (``training.payer_stats.table_json`` and the suggestions) and the
monthly trend, so the Markdown and the plots can never say something the JSON does not.
Aggregates only: no claim content is written or drawn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# Rules drawn in the lift plot (those flagged on the most claims): a panel per rule stays legible.
LIFT_PLOT_RULES = 9


def _fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def trend_plot(trend: pd.DataFrame, path: Path) -> Path:
    """Monthly denial rate per payer (one line each)."""
    fig, ax = plt.subplots(figsize=(9, 5))
    for payer_id, rows in trend.groupby("payer_id", sort=True):
        ax.plot(rows["month"], rows["denial_rate"], marker=".", label=str(payer_id))
    ax.set_ylabel("denial rate")
    ax.set_xlabel("submission month")
    ax.set_title("Monthly denial rate per payer")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lift_plot(payers: dict[str, Any], path: Path) -> Path:
    """Lift with its 95 % interval per payer, one panel per rule (the most flagged rules)."""
    rows = [
        (payer_id, rule, r["flagged"], r["lift"], *r["lift_ci"])
        for payer_id, entry in payers.items()
        for rule, r in entry["rules"].items()
        if r["lift"] is not None
    ]
    table = pd.DataFrame(rows, columns=["payer", "rule", "flagged", "lift", "low", "high"])
    top = table.groupby("rule")["flagged"].sum().sort_values(ascending=False).index[:LIFT_PLOT_RULES]
    cols = 3
    n_rows = max(1, int(np.ceil(len(top) / cols)))
    fig, axes = plt.subplots(n_rows, cols, figsize=(4.2 * cols, 3.2 * n_rows), squeeze=False)
    for ax, rule in zip(axes.ravel(), top, strict=False):
        part = table[table["rule"] == rule].sort_values("payer")
        y = np.arange(len(part))
        err = np.vstack([part["lift"] - part["low"], part["high"] - part["lift"]])
        ax.errorbar(part["lift"], y, xerr=err, fmt="o", markersize=3, capsize=2)
        ax.axvline(1.0, color="grey", linestyle=":")
        ax.set_xscale("log")
        ax.set_yticks(y, part["payer"], fontsize=6)
        ax.set_title(rule, fontsize=8)
    for ax in axes.ravel()[len(top) :]:
        ax.set_visible(False)
    fig.suptitle("Lift (denial rate flagged / not flagged) with 95 % Katz interval")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown(report: dict[str, Any]) -> str:
    """The human report: window, suggestions with their YAML patches, then each payer's rules."""
    window = report["window"]
    lines = [
        "# What each payer does",
        "",
        f"History {window['from']} .. {window['to']}: {window['claims']} labelled claims, {window['denied']} denied.",
        f"Model (not registered): {json.dumps(window['model'])}.",
        f"Lift: {window['lift']}. Effect: {window['effect']}. carc_match: {window['carc_match']}.",
        "",
        "![monthly denial rate](trend.png)",
        "",
        "![lift per payer and rule](lift.png)",
        "",
        "## Suggested policy changes",
        "",
    ]
    if not report["suggestions"]:
        lines.append("None: no payer's effect differs enough from the others'.")
    for s in report["suggestions"]:
        e = s["evidence"]
        lines += [
            f"### {s['change']} {s['rule']} at {s['payer_id']}",
            "",
            f"{e['flagged']} flagged claims; effect {_fmt(e['effect'])} here vs {_fmt(e['effect_other_payers'])} "
            f"at the other payers; lift {_fmt(e['lift'], 2)} [{_fmt(e['lift_ci'][0], 2)}, {_fmt(e['lift_ci'][1], 2)}]; "
            f"denied ${e['denied_dollars']:,.2f}.",
            "",
            "```yaml",
            s["yaml_patch"].rstrip("\n"),
            "```",
            "",
        ]
    lines += ["## Per payer", ""]
    for payer_id, entry in report["payers"].items():
        lines += [
            f"### {payer_id}: {entry['claims']} claims, denial rate {_fmt(entry['denial_rate'])}",
            "",
            "| rule | flagged | denial rate flagged | not flagged | lift [95 % CI] | effect | denied $ | carc_match |",
            "|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for rule, r in sorted(entry["rules"].items(), key=lambda item: -item[1]["flagged"]):
            lines.append(
                f"| {rule} | {r['flagged']} | {_fmt(r['denial_rate_flagged'])} | {_fmt(r['denial_rate_unflagged'])} "
                f"| {_fmt(r['lift'], 2)} [{_fmt(r['lift_ci'][0], 2)}, {_fmt(r['lift_ci'][1], 2)}] "
                f"| {_fmt(r['effect'])} | {r['denied_dollars']:,.2f} | {_fmt(r['carc_match'])} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], trend: pd.DataFrame, output_dir: Path) -> list[Path]:
    """payers.json, payers.md, trend.png and lift.png in ``output_dir``; their paths."""
    json_path = output_dir / "payers.json"
    json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    md_path = output_dir / "payers.md"
    md_path.write_text(markdown(report), encoding="utf-8")
    return [json_path, md_path, trend_plot(trend, output_dir / "trend.png"), lift_plot(report["payers"], output_dir / "lift.png")]
