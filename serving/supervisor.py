"""Several uvicorn worker processes, each with its own listening socket on the same port.

uvicorn's own ``--workers`` shares one listening socket between the workers; every worker is woken
for each new connection and the first one accepts all that are waiting. Clients that open their
keep-alive connections together (a load balancer's pool, a load generator) then often land on one
worker and leave the others idle (measured: 8 connections, 2 workers, all 8 on one worker in about
a third of the runs). Here each worker listens on its own ``SO_REUSEPORT`` socket bound to the same
address, and the kernel spreads new connections across them by a hash of the client address.

The supervisor binds every socket before a worker starts (a busy port fails at once), starts the
workers through uvicorn's ``Process`` (the same spawn, health-check pings and signal handling as
``uvicorn --workers``), replaces a worker that dies or stops answering, and on SIGTERM/SIGINT asks
every worker to finish its requests in flight, then exits. A worker that fails during start-up
(a broken setting, say) stops the whole server, since a replacement would fail the same way.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("claimrisk.serve")

CHECK_EVERY_SECONDS = 0.5


def reuse_port_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to one address (port 0: the one the first socket was given)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class WorkerPool:
    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.processes: list[Process] = []
        self.should_exit = threading.Event()
        self.failed = False

    def _start(self, index: int) -> Process:
        process = Process(self.config, [self.sockets[index]])
        process.start()
        return process

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.should_exit.set()

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; 0 after a clean stop, 3 when a worker could not start."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        self.processes = [self._start(i) for i in range(len(self.sockets))]
        logger.info(f"started {len(self.processes)} worker processes", extra={"event": "workers_started"})
        while not self.should_exit.wait(CHECK_EVERY_SECONDS):
            self._replace_dead_workers()
        for process in self.processes:
            process.terminate()  # SIGTERM: uvicorn drains requests in flight, then exits
        for process in self.processes:
            process.join()
        for sock in self.sockets:
            sock.close()
        return STARTUP_FAILURE if self.failed else 0

    def _replace_dead_workers(self) -> None:
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error("a worker failed to start; stopping", extra={"event": "worker_start_failed"})
                self.failed = True
                self.should_exit.set()
                return
            logger.error("a worker died; starting a new one", extra={"event": "worker_replaced"})
            self.processes[index] = self._start(index)
