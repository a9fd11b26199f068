"""Helpers for the service tests: start `aiagents serve` in a subprocess on a free port, stop it gracefully."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aiagents.tracing.phoenix_server import free_port

CLIENT_KEYS = ("test-client-key-aaaa1111", "test-client-key-bbbb2222")
ADMIN_KEY = "test-admin-key-cccc3333"


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (graceful: in-flight requests finish, the log writer flushes) and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_service(
    data_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None, keys: bool = True, timeout: float = 90
) -> Service:
    """`aiagents serve` on 127.0.0.1 with a private data folder; spans spool (Phoenix unreachable) by default."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    full = {
        **os.environ,
        "AIAGENTS_DATA_DIR": str(data_dir),
        "PHOENIX_COLLECTOR_ENDPOINT": f"http://127.0.0.1:{free_port()}",  # nothing listens: spans are spooled
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("AIAGENTS_API_KEYS", "AIAGENTS_ADMIN_KEYS", "AIAGENTS_DATABASE_URL", "AIAGENTS_MODEL"):
        full.pop(name, None)
    if keys:
        full["AIAGENTS_API_KEYS"] = ",".join(CLIENT_KEYS)
        full["AIAGENTS_ADMIN_KEYS"] = ADMIN_KEY
    full.update(env or {})
    log_path = data_dir / f"serve-{port}.log"
    handle = log_path.open("wb")
    cmd = [
        sys.executable, "-c", "from aiagents.cli import main; main()", "serve",
        "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=full, stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    service = Service(proc=proc, url=url, data_dir=data_dir, log_path=log_path, env=full)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"aiagents serve exited {proc.returncode}: {service.log()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    service.stop()
    raise RuntimeError(f"aiagents serve did not answer within {timeout} s: {service.log()[-3000:]}")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
