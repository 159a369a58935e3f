"""Every sub-command hands exactly the options it parses to its command function.

``claimrisk/cli.py`` maps each parsed option to a keyword of a lower package's function
(``cli.Command``) instead of spelling the call out, so nothing but this test notices an option
that names no parameter, or a required parameter no option fills. Each command is parsed from a
typical command line and its keywords are bound to the function's own signature."""

from __future__ import annotations

import argparse
import inspect
import re

import pytest

from claimrisk.cli import Command, build_parser

COMMAND_LINES = {
    "synth": "synth --claims 10 --out out --x12",
    "check": "check --input claims.jsonl --output results.jsonl",
    "convert": "convert --input claims.837 --output claims.jsonl",
    "remits": "remits --input remits.835 --output remits.jsonl",
    "train": "train --claims c --remits r --promote --truth t.jsonl --models-dir m --backtest-folds 0",
    "score": "score --input claims.jsonl --output worklist.csv --threshold 0.5 --fixes",
    "serve": "serve --port 8001 --workers 2",
    "drift": "drift --claims c --output drift.json",
    "payers": "payers --claims c --remits r --output out",
    "import-reference": "import-reference --mue mue.csv --effective 2026-04-01 --mue-setting outpatient",
    "users add": "users add bob --role biller --password-stdin",
    "users list": "users list",
    "users disable": "users disable bob",
    "users password": "users password bob --password-stdin",
    "users token": "users token bob",
    "queue import": "queue import --input claims.jsonl",
    "queue export": "queue export --output q.csv --status ready --format csv",
    "queue outcomes": "queue outcomes --input remits.835",
    "queue rescore": "queue rescore",
}


def _parsed(line: str) -> argparse.Namespace:
    return build_parser().parse_args(line.split())


@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_every_option_is_a_parameter_of_the_command(name: str) -> None:
    args = _parsed(COMMAND_LINES[name])
    run = args.run
    assert isinstance(run, Command)
    keywords = run.keywords(args)
    signature = inspect.signature(run.function())
    signature.bind(**keywords)  # raises on an unknown keyword or a required parameter left out


def test_the_command_lines_cover_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """A sub-command added without a line above would go unchecked: the usage lines list them all."""
    assert _listed(build_parser().format_usage()) == {name.split()[0] for name in COMMAND_LINES}
    for group in ("users", "queue"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([group])  # no action: argparse prints the group's usage
        actions = {name.split()[1] for name in COMMAND_LINES if name.startswith(f"{group} ")}
        assert _listed(capsys.readouterr().err) == actions


def _listed(usage: str) -> set[str]:
    """The choices of a usage line: ``usage: claimrisk [-h] [--version] {synth,check,...} ...``."""
    found = re.search(r"\{([^}]*)\}", usage)
    assert found is not None, usage
    return set(found.group(1).split(","))


def test_options_reach_the_function_under_their_keyword_names() -> None:
    args = _parsed(COMMAND_LINES["payers"])
    assert args.run.keywords(args) == {"claims_path": args.claims, "remits_path": args.remits, "output_dir": args.output}
    args = _parsed(COMMAND_LINES["users password"])
    assert args.run.keywords(args) == {"name": "bob"}  # the flag only says where the password comes from
