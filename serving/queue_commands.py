"""``claimrisk users ...`` and ``claimrisk queue ...``: the worklist from the command line.

Thin wrappers over the ``worklist`` services, called by ``claimrisk.cli`` (which only parses
arguments). Each returns CONTRACT §5's exit code: 0 when every record was handled, 1 when some were
rejected (each listed on standard error by file, position and reason, never its content); a
command that cannot run raises, and the CLI prints the one-line reason and exits 2.

Who acts: user management runs as the local operator (``actor`` None in ``worklist.users``): the
person at this terminal already holds the database file or URL, and that is how the first admin
is created. Queue commands act as the service account ``claimrisk-cli`` (an analyst with no
password, so nobody can sign in as it), created on first use, so the audit trail names the CLI
as the actor of every import, export and rescore. The scorer is the champion model loaded
exactly as ``claimrisk score`` loads it (``serving.commands.champion_scorer``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from worklist.db import Store
    from worklist.models import User

CLI_ACTOR = "claimrisk-cli"
CLI_ACTOR_ROLE = "analyst"


def _open() -> Store:
    from worklist.db import open_store

    return open_store()


def read_password(stream: TextIO) -> str:
    """The first line of ``stream`` without its line end (``--password-stdin``); never echoed."""
    line = stream.readline()
    return line.removesuffix("\n").removesuffix("\r")


def cli_actor(session: Session) -> User:
    """The ``claimrisk-cli`` service account, created (without a password) on first use."""
    from worklist.errors import NotFound
    from worklist.users import add_user, get_user

    try:
        return get_user(session, CLI_ACTOR)
    except NotFound:
        return add_user(session, None, CLI_ACTOR, CLI_ACTOR_ROLE, None)


# ---- users -------------------------------------------------------------------------------------


def users_add(*, name: str, role: str, password_stdin: bool, stdin: TextIO | None = None) -> int:
    from worklist.users import add_user

    password = read_password(stdin or sys.stdin) if password_stdin else None
    store = _open()
    try:
        with store.session() as session:
            user = add_user(session, None, name, role, password)
        sys.stderr.write(f"claimrisk users: added {user.name} ({user.role})\n")
        return 0
    finally:
        store.dispose()


def users_list(*, out: TextIO | None = None) -> int:
    from worklist.users import list_users

    store = _open()
    try:
        with store.session() as session:
            users = list_users(session, None)
        out = out or sys.stdout
        out.write("name\trole\tdisabled\tcreated_at\n")
        for user in users:
            out.write(f"{user.name}\t{user.role}\t{'yes' if user.disabled else 'no'}\t{user.created_at}\n")
        return 0
    finally:
        store.dispose()


def users_disable(*, name: str) -> int:
    from worklist.users import disable_user

    store = _open()
    try:
        with store.session() as session:
            disable_user(session, None, name)
        sys.stderr.write(f"claimrisk users: disabled {name}; its sign-in and tokens no longer work\n")
        return 0
    finally:
        store.dispose()


def users_password(*, name: str, stdin: TextIO | None = None) -> int:
    from worklist.users import set_password

    password = read_password(stdin or sys.stdin)
    store = _open()
    try:
        with store.session() as session:
            set_password(session, None, name, password)
        sys.stderr.write(f"claimrisk users: password of {name} set\n")
        return 0
    finally:
        store.dispose()


def users_token(*, name: str, out: TextIO | None = None) -> int:
    """Print a new personal API token (shown once; only its hash is kept)."""
    from worklist.users import issue_token

    store = _open()
    try:
        with store.session() as session:
            token = issue_token(session, None, name)
        (out or sys.stdout).write(token + "\n")
        return 0
    finally:
        store.dispose()


# ---- queue -------------------------------------------------------------------------------------


def queue_import(*, input_path: Path) -> int:
    """Score the claims of a JSONL/837 file or folder with the champion and queue them."""
    import time

    from claims.parallel import worker_count
    from serving.commands import champion_scorer
    from worklist.importing import import_path
    from worklist.incoming import WORKERS_ENV

    started = time.perf_counter()
    scorer = champion_scorer()
    workers = worker_count(WORKERS_ENV)  # a large JSONL file is read and scored in forked workers
    store = _open()
    try:
        with store.session() as session:
            report = import_path(session, input_path, scorer, cli_actor(session), workers=workers)
    finally:
        store.dispose()
    for error in report.errors:
        sys.stderr.write(f"{error}\n")
    counts = report.counts()
    sys.stderr.write(
        f"claimrisk queue import: {counts['read']} claims read, {counts['new']} new, {counts['revised']} revised, "
        f"{counts['unchanged']} unchanged, {counts['rejected']} rejected; model {scorer.model_version}; "
        f"{time.perf_counter() - started:.1f} s\n"
    )
    return report.exit_code


def queue_export(*, output_path: Path, status: str | None, fmt: str | None) -> int:
    """The queue rows (CSV/Parquet) or the claims themselves (JSONL/837; default status ready)."""
    from worklist.export import CLAIM_FORMATS, export_claims, export_format, export_queue
    from worklist.queue import QueueFilter

    chosen = export_format(output_path, fmt)
    store = _open()
    try:
        with store.session() as session:
            actor = cli_actor(session)
            if chosen in CLAIM_FORMATS:
                where = QueueFilter(status=status or "ready")
                count = export_claims(session, actor, output_path, where, fmt=chosen)
            else:
                count = export_queue(session, actor, output_path, QueueFilter(status=status), fmt=chosen)
    finally:
        store.dispose()
    sys.stderr.write(f"claimrisk queue export: {count} {'claims' if chosen in CLAIM_FORMATS else 'rows'} -> {output_path}\n")
    return 0


def queue_outcomes(*, input_path: Path) -> int:
    """Attach 835 or §6 JSONL remittance outcomes to the queue's claims."""
    from worklist.outcomes import attach_outcomes_path

    store = _open()
    try:
        with store.session() as session:
            report, errors = attach_outcomes_path(session, cli_actor(session), input_path)
    finally:
        store.dispose()
    for error in errors:
        sys.stderr.write(f"{error}\n")
    sys.stderr.write(
        f"claimrisk queue outcomes: {report.rows} remittance rows, {report.answered_claims} answered claims, "
        f"{report.matched} matched queue claims, {report.unmatched} not in the queue, {len(errors)} rejected\n"
    )
    return 1 if errors else 0


def queue_rescore() -> int:
    """Re-score every open claim with the current champion and reference data."""
    from serving.commands import champion_scorer
    from worklist.rescoring import rescore_open

    scorer = champion_scorer()
    store = _open()
    try:
        with store.session() as session:
            report = rescore_open(session, cli_actor(session), scorer)
    finally:
        store.dispose()
    sys.stderr.write(
        f"claimrisk queue rescore: {report.open_claims} open claims, {report.rescored} re-scored, "
        f"{report.already_scored} already scored by model {scorer.model_version}\n"
    )
    return 0
