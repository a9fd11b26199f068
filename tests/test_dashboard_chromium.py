"""The dashboard in a real headless Chromium (DevTools protocol): admin-only, charts drawn with data, failure
links to Phoenix traces, the login form and its session cookie, and no request leaving 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aiagents.rollout import ExperimentStore, Guardrails, Variant
from tests.test_service_support import ADMIN_KEY, CLIENT_KEYS, auth, free_port, start_service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
DOCS = Path(__file__).resolve().parents[1] / "docs"


class Browser:
    """Headless Chromium driven over the DevTools protocol (websockets), recording every network request."""

    def __init__(self, profile: Path) -> None:
        websockets = pytest.importorskip(
            "websockets.sync.client", reason="websockets is needed (pip install websockets)"
        )
        connect = websockets.connect

        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", f"--remote-debugging-port={self.port}",
                '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', "--window-size=1400,1800",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                pages = httpx.get(f"http://127.0.0.1:{self.port}/json/list", timeout=1).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (httpx.HTTPError, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    self.close()
                    raise
                time.sleep(0.2)
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(page["webSocketDebuggerUrl"], max_size=50_000_000))
        self._id = 0
        self.requests: list[str] = []
        self.call("Network.enable")
        self.call("Page.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=30))
            self._event(msg)
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg.get("result", {})

    def _event(self, msg: dict[str, Any]) -> None:
        if msg.get("method") == "Network.requestWillBeSent":
            self.requests.append(msg["params"]["request"]["url"])

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_loaded()

    def wait_loaded(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = self.eval("document.readyState")
            if state == "complete" and self.eval("location.href") != "about:blank":
                return
            time.sleep(0.1)
        raise TimeoutError("page did not load")

    def eval(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort
            self._stack.close()
        self.proc.terminate()
        self.proc.wait(20)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("dash") / "data"
    svc = start_service(data, env={"AIAGENTS_ONLINE_EVAL_RATE": "1", "AIAGENTS_MODEL": "offline"})
    dead = f"openai-compatible:m@http://127.0.0.1:{free_port()}/v1"
    ExperimentStore(data / "experiments").create(
        "dash", "tasks/listing-attributes",
        [Variant(name="control", share=70), Variant(name="candidate", share=30, model=dead)],
        guardrails=Guardrails(min_sample=3, max_error_rate=0.5),
    )  # fmt: skip
    time.sleep(0.8)
    with httpx.Client(base_url=svc.url, headers=auth(CLIENT_KEYS[0]), timeout=60) as c:
        for i in range(30):
            listing = {"listing": f"Item {i}: wooden chair, good condition, {10 + i} EUR"}
            r = c.post("/v1/tasks/listing-attributes", json={"input": listing, "user_id": f"d-{i}"})
            if r.status_code == 200:
                c.post("/v1/feedback", json={"request_id": r.json()["request_id"], "thumbs": "down" if i % 4 else "up"})
        c.get("/v1/stats", headers=auth(ADMIN_KEY))
    time.sleep(1.0)  # online-eval scores are written in the background
    yield svc
    svc.stop()


def test_dashboard_refuses_without_the_admin_key(served) -> None:
    url = f"{served.url}/dashboard"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"accept": "text/html"}).status_code == 303
    assert httpx.get(url, headers=auth(CLIENT_KEYS[0])).status_code == 403
    assert httpx.get(f"{url}/data.json", headers=auth("wrong-key")).status_code == 403
    bad = httpx.post(
        f"{url}/login", content="key=" + CLIENT_KEYS[0], headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert bad.status_code == 401 and "set-cookie" not in bad.headers
    forged = httpx.get(url, cookies={"aiagents_dashboard": "k_x.9999999999.deadbeef"})
    assert forged.status_code == 401
    data = httpx.get(f"{url}/data.json", headers=auth(ADMIN_KEY)).json()
    assert data["summary"]["requests"] == 30 and data["breakdowns"]["variant"]["candidate"]["error_rate"] == 1.0
    assert abs(data["since"] - (time.time() - 7 * 86400)) < 60  # default window: the last week
    hour = httpx.get(f"{url}/data.json", params={"hours": "1"}, headers=auth(ADMIN_KEY)).json()
    assert abs(hour["since"] - (time.time() - 3600)) < 60 and hour["summary"]["requests"] == 30


def test_dashboard_in_chromium_draws_charts_links_traces_and_stays_local(served, tmp_path: Path) -> None:
    browser = Browser(tmp_path / "profile")
    try:
        # a browser without a key lands on the login form; an admin key logs it in with a session cookie
        browser.goto(f"{served.url}/dashboard")
        assert browser.eval("location.pathname") == "/dashboard/login"
        browser.eval(
            f"document.querySelector('input[name=key]').value = {json.dumps(ADMIN_KEY)};"
            "document.querySelector('form').submit()"
        )
        time.sleep(0.5)
        browser.wait_loaded()
        assert browser.eval("location.pathname") == "/dashboard"
        cookies = browser.call("Network.getCookies", urls=[f"{served.url}/dashboard"])["cookies"]
        assert [(c["name"], c["httpOnly"]) for c in cookies] == [("aiagents_dashboard", True)]
        assert browser.eval("document.cookie") == ""  # HttpOnly: not readable from scripts
        charts = browser.eval("document.querySelectorAll('svg.chart-svg').length")
        points = browser.eval("document.querySelectorAll('svg circle.point').length")
        bars = browser.eval("[...document.querySelectorAll('svg rect.bar')].map(b => +b.dataset.value)")
        assert charts >= 6 and points > 0
        assert sum(bars[: len(bars) // 2 + 1]) > 0 and sum(v for v in bars if v >= 1) >= 30  # request volume
        links = browser.eval("[...document.querySelectorAll('a.trace-link')].map(a => a.href)")
        assert links and all(re.fullmatch(r"http://127\.0\.0\.1:\d+/redirects/traces/[0-9a-f]{32}", u) for u in links)
        text = browser.eval("document.body.innerText")
        assert "dash" in text and "roll back" in text and "By variant" in text and "candidate" in text
        capture = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        shot = base64.b64decode(capture["data"])
        assert shot.startswith(b"\x89PNG")
        if os.environ.get("AIAGENTS_UPDATE_SCREENSHOT"):  # refresh the README's picture on purpose only
            DOCS.mkdir(exist_ok=True)
            (DOCS / "dashboard.png").write_bytes(shot)
        outside = [u for u in browser.requests if not u.startswith(served.url) and not u.startswith("data:")]
        assert browser.requests and outside == []
        html = browser.eval("document.documentElement.outerHTML")
        found = re.findall(r"(?:src|href)=\"(https?://[^\"]+)", html)
        assert all(u.startswith("http://127.0.0.1") for u in found)
    finally:
        browser.close()
