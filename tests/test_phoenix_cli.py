"""`aiagents phoenix` stops the Phoenix it started when it is stopped itself (SIGTERM from a service manager or
`kill`), so no `phoenix serve` is left running on the port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aiagents.tracing.phoenix_server import free_port, phoenix_is_up

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_stops_the_phoenix_it_started(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AIAGENTS_DATA_DIR": str(tmp_path / "data")}
    cli = subprocess.Popen(
        [sys.executable, "-c", "from aiagents.cli import main; main()", "phoenix", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not phoenix_is_up(f"http://127.0.0.1:{port}") and time.monotonic() < deadline:
            assert cli.poll() is None, "aiagents phoenix exited before Phoenix answered"
            time.sleep(0.5)
        children = _children(cli.pid)
        assert children, "no phoenix serve child found"
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(30) == 0
        deadline = time.monotonic() + 20
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(c) for c in children), "phoenix serve outlived aiagents phoenix"
        assert not phoenix_is_up(f"http://127.0.0.1:{port}")
    finally:
        if cli.poll() is None:
            cli.kill()
