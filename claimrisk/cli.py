"""The ``claimrisk`` command: parses arguments and calls the packages, nothing else.

Each sub-command imports its package lazily so that ``claimrisk convert`` does not pay for
scikit-learn and MLflow imports. Exit codes follow CONTRACT §5: 0 all records handled, 1 some
rejected, 2 the command could not run. No traceback reaches the user; ``CLAIMRISK_DEBUG=1`` shows one.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from claimrisk import __version__

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2


_NOT_OPTIONS = frozenset({"command", "action", "run"})  # the sub-command's own names, not its options


class Command:
    """What a sub-command runs: the function ``module:function`` of a lower package, imported only
    when its command runs (so that ``claimrisk convert`` does not pay for scikit-learn and MLflow
    imports), called with each option the command parsed as the keyword of the same name, or of the
    name ``renamed`` gives it (None: the option is not passed, e.g. a required flag that only makes
    the call say what it does). The parser lines are then the one place a command's options are
    listed; ``tests/architecture/test_cli_dispatch.py`` binds every command's keywords to its function."""

    def __init__(self, target: str, **renamed: str | None) -> None:
        self.module, _, self.name = target.partition(":")
        self.renamed = renamed

    def function(self) -> Callable[..., int]:
        function: Callable[..., int] = getattr(importlib.import_module(self.module), self.name)
        return function

    def keywords(self, args: argparse.Namespace) -> dict[str, Any]:
        options = {self.renamed.get(key, key): value for key, value in vars(args).items() if key not in _NOT_OPTIONS}
        return {keyword: value for keyword, value in options.items() if keyword is not None}

    def __call__(self, args: argparse.Namespace) -> int:
        return self.function()(**self.keywords(args))


_PATHS = {"input": "input_path", "output": "output_path"}


def _add_worklist_parsers(sub: Any) -> None:
    """``claimrisk users ...`` and ``claimrisk queue ...`` (CONTRACT §8)."""
    users = sub.add_parser("users", help="worklist users, roles and personal API tokens")
    actions = users.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="create a user (the password is read from standard input)")
    p.add_argument("name")
    p.add_argument("--role", choices=["biller", "analyst", "admin"], required=True)
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(run=Command("serving.queue_commands:users_add"))
    actions.add_parser("list", help="list the users").set_defaults(run=Command("serving.queue_commands:users_list"))
    for action, text in (("disable", "disable a user (sign-in and tokens stop working)"),
                         ("token", "print a new personal API token for the user")):
        p = actions.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(run=Command(f"serving.queue_commands:users_{action}"))
    p = actions.add_parser("password", help="set a user's password")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", required=True, help="read it from standard input")
    p.set_defaults(run=Command("serving.queue_commands:users_password", password_stdin=None))

    queue = sub.add_parser("queue", help="the worklist: import, export, outcomes, rescore")
    actions = queue.add_subparsers(dest="action", required=True)
    p = actions.add_parser("import", help="score claims (JSONL or 837, file or folder) into the worklist")
    p.add_argument("--input", type=Path, required=True)
    p.set_defaults(run=Command("serving.queue_commands:queue_import", **_PATHS))
    p = actions.add_parser("export", help="the queue (csv, parquet) or its claims (jsonl, 837)")
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--status", choices=["new", "in_review", "fixed", "ready", "sent", "dismissed"], default=None)
    p.add_argument("--format", choices=["csv", "parquet", "jsonl", "837"], default=None,
                   help="default: from the output's extension")
    p.set_defaults(run=Command("serving.queue_commands:queue_export", format="fmt", **_PATHS))
    p = actions.add_parser("outcomes", help="attach 835 or remittance JSONL outcomes to queued claims")
    p.add_argument("--input", type=Path, required=True)
    p.set_defaults(run=Command("serving.queue_commands:queue_outcomes", **_PATHS))
    p = actions.add_parser("rescore", help="re-score every open claim with the current champion")
    p.set_defaults(run=Command("serving.queue_commands:queue_rescore"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimrisk", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"claimrisk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="write a synthetic claims-and-remittance history")
    p.add_argument("--claims", type=int, required=True, help="number of claims")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--x12", action="store_true", help="also write claims.837 and remits.835")
    p.set_defaults(run=Command("synthetic.commands:synth", claims="n_claims"))

    p = sub.add_parser("check", help="rules only: one result per claim")
    p.add_argument("--input", type=Path, required=True, help="JSONL claims or an X12 837 file")
    p.add_argument("--output", type=Path, required=True, help="JSONL results")
    p.set_defaults(run=Command("features.commands:check", **_PATHS))

    p = sub.add_parser("convert", help="X12 837P/837I -> contract claims (JSONL)")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(run=Command("edi.commands:convert", **_PATHS))

    p = sub.add_parser("remits", help="X12 835 -> remittance rows (JSONL)")
    p.add_argument("--input", type=Path, required=True)
    p.add_argument("--output", type=Path, required=True)
    p.set_defaults(run=Command("edi.commands:remits", **_PATHS))

    p = sub.add_parser("train", help="train, evaluate and register a model from claims and remits")
    p.add_argument("--claims", type=Path, required=True, help="file or folder of JSONL/837")
    p.add_argument("--remits", type=Path, required=True, help="file or folder of JSONL/835")
    p.add_argument("--promote", action="store_true", help="make it the serving model if it is no worse")
    p.add_argument("--truth", type=Path, default=None, help="synthetic truth.jsonl: also report the oracle")
    p.add_argument("--holdout-fraction", type=float, default=0.2, help="latest share of claims held out")
    p.add_argument("--target-precision", type=float, default=0.8, help="operating point: precision to hold")
    p.add_argument("--models-dir", type=Path, default=None, help="export folder (default: models/)")
    p.add_argument("--backtest-folds", type=int, default=3, help="months of the rolling backtest (0: none)")
    p.set_defaults(run=Command("training.commands:train", claims="claims_path", remits="remits_path", truth="truth_path"))

    p = sub.add_parser("score", help="batch scoring to a worklist ranked by expected loss")
    p.add_argument("--input", type=Path, required=True, help="JSONL claims or an X12 837 file")
    p.add_argument("--output", type=Path, required=True, help=".csv or .parquet")
    p.add_argument("--threshold", type=float, default=None, help="override the model's operating point")
    p.add_argument(
        "--fixes",
        action="store_true",
        help="also re-score every claim's fixes: total_charge, best_fix, risk_if_best_fixed, risk_if_all_fixed, "
        "recoverable (dollars the fixes win back)",
    )
    p.set_defaults(run=Command("serving.commands:score", **_PATHS))

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default=os.environ.get("CLAIMRISK_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CLAIMRISK_PORT", "8000")))
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: CLAIMRISK_WORKERS, else the usable cores)")
    p.set_defaults(run=Command("serving.commands:serve"))

    p = sub.add_parser("drift", help="PSI report of claims against the champion's training window (JSON)")
    p.add_argument("--claims", type=Path, required=True, help="file or folder of JSONL/837 (recent claims)")
    p.add_argument("--output", type=Path, required=True, help="the JSON report")
    p.set_defaults(run=Command("serving.drift:drift", claims="claims_path", output="output_path"))

    p = sub.add_parser("payers", help="what each payer does with each rule: payers.json, a report, suggestions")
    p.add_argument("--claims", type=Path, required=True, help="file or folder of JSONL/837")
    p.add_argument("--remits", type=Path, required=True, help="file or folder of JSONL/835")
    p.add_argument("--output", type=Path, required=True, help="folder for payers.json, payers.md and plots")
    p.set_defaults(run=Command("serving.payer_report:payers", claims="claims_path", remits="remits_path", output="output_dir"))

    p = sub.add_parser("import-reference", help="import a new quarter of CMS reference files")
    p.add_argument("--crosswalk", type=Path, default=None, help="CMS ASP NDC-HCPCS crosswalk CSV")
    p.add_argument("--payment-limit", type=Path, default=None, help="CMS ASP payment limit CSV")
    p.add_argument("--mue", type=Path, default=None, help="CMS Medically Unlikely Edits CSV (one setting)")
    p.add_argument("--effective", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="the MUE table's effective date (CMS gives it only in the file name)")
    p.add_argument("--mue-setting", choices=["practitioner", "outpatient"], default=None,
                   help="the MUE table's setting when its header does not name it")
    p.set_defaults(run=Command("reference.commands:import_reference", effective="mue_effective"))
    _add_worklist_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        print("claimrisk: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if os.environ.get("CLAIMRISK_DEBUG"):
            raise
        print(f"claimrisk {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def run() -> int:
    """The installed ``claimrisk`` command and ``python -m claimrisk``: ``main``, then a cheap exit.

    At exit CPython runs one last collection over every object still alive before it clears the
    modules; after a command that loaded a model (scikit-learn, SciPy, LightGBM, reference data)
    the exit took 0.6-0.7 s of a 7.5 s ``claimrisk queue import``, 0.2 s with this (measured). Garbage is
    collected here instead, while every finalizer can still run, and what is left (the modules and
    what they hold, freed by reference counts at teardown) is frozen out of that last pass. Only
    for a process about to exit: ``main`` stays the function tests and callers use."""
    code = main()
    gc.collect()
    gc.freeze()
    return code
