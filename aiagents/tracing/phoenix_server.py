"""Start and find a local Phoenix server (the embedded default for trace inspection)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from aiagents.errors import RunError

__all__ = ["PhoenixServer", "phoenix_is_up", "start_phoenix", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def phoenix_is_up(url: str, timeout: float = 1.0) -> bool:
    """True when a Phoenix server answers at `url`."""
    try:
        return httpx.get(f"{url.rstrip('/')}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(kw_only=True)
class PhoenixServer:
    """A Phoenix server process started by us."""

    url: str
    process: subprocess.Popen[bytes]
    working_dir: Path
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_phoenix(
    working_dir: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    timeout: float = 120.0,
    nice: int = 0,
) -> PhoenixServer:
    """Run `phoenix serve` with its working directory (SQLite database) in `working_dir`, wait until it answers.

    `nice` > 0 runs it at a lower CPU priority: on a machine it shares with the service it observes, it then
    ingests spans with the CPU the service leaves idle instead of taking it from requests.
    """
    working_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(working_dir),
        "PHOENIX_HOST": host,
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
    }
    executable = shutil.which("phoenix", path=str(Path(sys.executable).parent)) or shutil.which("phoenix")
    command = [executable, "serve"] if executable else [sys.executable, "-m", "phoenix.server.main", "serve"]
    log_path = working_dir / "server.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=working_dir,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 - only os.nice runs in the child
    )  # fmt: skip
    url = f"http://{host}:{port}"
    server = PhoenixServer(url=url, process=process, working_dir=working_dir, log_path=log_path)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RunError(f"Phoenix exited with code {process.returncode}; see {log_path}.")
            if phoenix_is_up(url):
                return server
            time.sleep(0.5)
    except BaseException:  # interrupted (Ctrl-C, SIGTERM) while it starts: no Phoenix is left behind
        server.stop()
        raise
    server.stop()
    raise RunError(f"Phoenix did not answer at {url} within {timeout:.0f} s; see {log_path}.")
