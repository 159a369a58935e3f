"""A throwaway PostgreSQL cluster (tests and benchmarks of the worklist store on PostgreSQL).

Debian's binaries refuse ``initdb`` as root, so as root the cluster runs as the ``postgres`` user in
a folder owned by it; it listens on 127.0.0.1 and a free port only, with trust auth, and durability
switched off (fsync): it holds test data for minutes, never anything to keep.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("CLAIMRISK_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "claimrisk"


class PostgresMissing(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def pg_cluster() -> Iterator[str]:
    """Start a cluster; yield its server URL (no database part); stop and delete it at the end."""
    if not (PG_BIN / "initdb").is_file():
        raise PostgresMissing(
            f"PostgreSQL binaries not found in {PG_BIN}: install them (`apt-get install -y postgresql`) "
            "or set CLAIMRISK_PG_BIN"
        )
    root = Path(tempfile.mkdtemp(prefix="claimrisk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    try:
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", PG_USER, "--no-sync"]),
            check=True, capture_output=True,
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
                          "-w", "start"]),
            check=True, capture_output=True,
        )
        yield f"postgresql+psycopg://{PG_USER}@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"
