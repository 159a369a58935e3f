"""``claimrisk synth``: write a synthetic claims-and-remittance history with its ground truth."""

from __future__ import annotations

import sys
from pathlib import Path

from claims.errors import InputError
from synthetic.history import CLAIMS_FILE, REMITS_FILE, write_history
from synthetic.world import PolicyChange

MAX_CLAIMS = 50_000_000


def synth(*, n_claims: int, seed: int, out: Path, x12: bool, policy_change: PolicyChange | None = None) -> int:
    """Generate the history; returns 0 (every record is generated, none can be rejected).

    ``policy_change`` moves the payer policy change (tests put it late in a history to show that
    the shipped model follows it); ``None`` keeps the catalog's."""
    if n_claims < 1 or n_claims > MAX_CLAIMS:
        raise InputError(f"--claims must be between 1 and {MAX_CLAIMS:,}, got {n_claims}")
    if seed < 0:
        raise InputError(f"--seed must be a non-negative integer, got {seed}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    try:
        summary = write_history(seed, n_claims, out, policy_change=policy_change)
        if x12:
            from synthetic.x12 import write_x12

            write_x12(out / CLAIMS_FILE, out / REMITS_FILE, out)
    except OSError as error:
        raise InputError(f"cannot write the history to {out}: {error.strerror or error}") from error
    rate = summary.n_denied / max(summary.n_claims, 1)
    sys.stderr.write(
        f"synth: {summary.n_claims:,} claims, {summary.n_lines:,} lines, {summary.n_remit_rows:,} remit rows, "
        f"claim denial rate {rate:.1%} -> {out}\n"
    )
    return 0
