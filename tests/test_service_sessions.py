"""Dashboard sessions end on the server: logout ends them for every worker, removing the admin key that logged in
ends its sessions, and the lifetime is a setting."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.test_service_support import ADMIN_KEY, auth, start_service

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _login(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/dashboard/login", content=f"key={key}", headers=FORM)


def _status_on_fresh_connections(url: str, cookie: str, times: int = 6) -> set[int]:
    """Status of `/dashboard/data.json` with the cookie, over new connections (so both workers answer)."""
    return {
        httpx.get(f"{url}/dashboard/data.json", cookies={"aiagents_dashboard": cookie}).status_code
        for _ in range(times)
    }


def test_logout_and_key_removal_end_sessions_and_the_lifetime_is_a_setting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    svc = start_service(data, workers=2, env={"AIAGENTS_DASHBOARD_SESSION_HOURS": "0.5"})
    try:
        login = _login(svc.url, ADMIN_KEY)
        assert login.status_code == 303
        assert "Max-Age=1800" in login.headers["set-cookie"]
        cookie = login.cookies["aiagents_dashboard"]
        other = _login(svc.url, ADMIN_KEY).cookies["aiagents_dashboard"]  # a second browser
        assert _status_on_fresh_connections(svc.url, cookie) == {200}
        nan = httpx.get(f"{svc.url}/dashboard/data.json", params={"hours": "nan"}, headers=auth(ADMIN_KEY))
        assert nan.status_code == 200  # a window that is not a number falls back to the default
        out = httpx.post(f"{svc.url}/dashboard/logout", cookies={"aiagents_dashboard": cookie})
        assert out.status_code == 303
        assert _status_on_fresh_connections(svc.url, cookie) == {401}  # ended on the server, in both workers
        assert _status_on_fresh_connections(svc.url, other) == {200}  # only that session
    finally:
        svc.stop()
    # the admin key is replaced in the configuration: the sessions it opened end with it
    svc = start_service(data, env={"AIAGENTS_ADMIN_KEYS": "a-new-admin-key-4444"})
    try:
        assert _status_on_fresh_connections(svc.url, other, times=2) == {401}
        fresh = _login(svc.url, "a-new-admin-key-4444").cookies["aiagents_dashboard"]
        assert _status_on_fresh_connections(svc.url, fresh, times=2) == {200}
    finally:
        svc.stop()
