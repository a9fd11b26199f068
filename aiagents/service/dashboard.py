"""The monitoring dashboard: `GET /dashboard` (admin key, or a session cookie from `POST /dashboard/login`).

Volume, error rate, latency p50/p95, cost, thumbs-up and correction rates and online-eval scores over time,
broken down by prompt version, model and variant; running experiments with their current decision; the
latest errors and negative-feedback requests, each linking to its trace in Phoenix.

The charts are inline SVG drawn here by a tiny renderer (lines and bars) rather than a chart library: the
page must load nothing from outside (no CDN), the charts are a few polylines and rectangles, and drawing
them server-side keeps the page free of JavaScript. The CSS is read from `static/dashboard.css` and inlined.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from aiagents.logstore import LogStore
from aiagents.rollout import ExperimentStore, percentile, report
from aiagents.service.config import service_secret
from aiagents.service.errors import error_body
from aiagents.tracing import phoenix_url

__all__ = [
    "DashboardGate",
    "dashboard_data",
    "render_dashboard",
    "trace_url",
    "SessionSigner",
    "line_chart",
    "bar_chart",
    "COOKIE",
]

COOKIE = "aiagents_dashboard"
SESSION_SECONDS = 12 * 3600
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


# --- inline SVG charts ---------------------------------------------------------------------------------------

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 420, 200, 46, 10, 36, 28


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    if abs(v) >= 10:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}"
    return f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.0e}"


def _frame(title: str, y_max: float, labels: Sequence[str]) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" class="chart-svg" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{PAD_L}" y="15" font-size="12" font-weight="600">{html.escape(title)}</text>',
    ]
    for i in range(5):
        y = PAD_T + (H - PAD_T - PAD_B) * i / 4
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#6b7280">'
            f"{_fmt(y_max * (1 - i / 4))}</text>"
        )
    if labels:
        for idx in sorted({0, len(labels) // 2, len(labels) - 1}):
            x = _x(idx, len(labels))
            anchor = "start" if idx == 0 else ("end" if idx == len(labels) - 1 else "middle")
            parts.append(
                f'<text x="{x:.1f}" y="{H - 8}" font-size="10" text-anchor="{anchor}" fill="#6b7280">'
                f"{html.escape(labels[idx])}</text>"
            )
    return parts


def _x(i: int, n: int) -> float:
    inner = W - PAD_L - PAD_R
    return PAD_L + (inner * (i + 0.5) / n if n else 0)


def _y(v: float, y_max: float) -> float:
    return PAD_T + (H - PAD_T - PAD_B) * (1 - (v / y_max if y_max else 0))


def _nice_max(values: Sequence[float]) -> float:
    top = max([v for v in values if v is not None and math.isfinite(v)] or [0.0])
    if top <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if top <= m * exp:
            return m * exp
    return 10 * exp


def line_chart(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, y_max: float | None = None
) -> str:
    """Lines (one per series; None values break a line) over shared x `labels`; points carry `data-value`."""
    values = [v for s in series.values() for v in s if v is not None]
    top = y_max if y_max is not None else _nice_max(values)
    parts = _frame(title, top, labels)
    for k, (name, ys) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        seg: list[str] = []
        for i, v in enumerate(ys):
            if v is None:
                if len(seg) > 1:
                    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>')
                seg = []
                continue
            x, y = _x(i, len(labels)), _y(v, top)
            seg.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}" data-series="'
                f'{html.escape(name)}" data-value="{v:.6g}">'
                f"<title>{html.escape(name)} {labels[i]}: {v:.4g}</title></circle>"
            )
        if len(seg) > 1:
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>')
        parts.append(
            f'<text x="{PAD_L + 100 * k}" y="29" font-size="10" fill="{color}">&#9632; {html.escape(name[:16])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """One bar per label; bars carry `data-value`."""
    top = _nice_max(values)
    parts = _frame(title, top, labels)
    n = len(labels)
    width = max(1.0, (W - PAD_L - PAD_R) / max(n, 1) * 0.8)
    for i, v in enumerate(values):
        x, y = _x(i, n) - width / 2, _y(v, top)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{_y(0, top) - y:.1f}" '
            f'fill="{PALETTE[0]}" data-value="{v:.6g}"><title>{labels[i]}: {v:.4g}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- data ---------------------------------------------------------------------------------------------------
def _rate(x: int, n: int) -> float | None:
    return x / n if n else None


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    lat = [float(r["latency_ms"]) for r in rows]
    scored = [float(r["score"]) for r in rows if r.get("score") is not None]
    rated = sum(1 for r in rows if r["up"] or r["down"])
    return {
        "requests": n,
        "error_rate": _rate(sum(1 for r in rows if r["error_code"]), n),
        "latency_ms_p50": percentile(lat, 0.5),
        "latency_ms_p95": percentile(lat, 0.95),
        "cost_usd": round(sum(float(r["cost_usd"] or 0) for r in rows), 6),
        "thumbs_up_rate": _rate(sum(1 for r in rows if r["up"]), rated),
        "correction_rate": _rate(sum(1 for r in rows if r["corrected"]), n),
        "online_score": sum(scored) / len(scored) if scored else None,
    }


def dashboard_data(
    store: LogStore, *, since: float | None = None, buckets: int = 24, limit: int = 50_000
) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-able data (also served at /dashboard/data.json)."""
    since = since if since is not None else time.time() - 7 * 86400
    rows = store.query(
        "SELECT r.request_id, r.created_at, r.endpoint, r.name, r.prompt_version, r.model, r.variant, r.experiment, "
        "r.latency_ms, r.cost_usd, r.error_code, r.error_message, r.trace_id, r.trace_sampled, r.user_id, "
        "COALESCE(f.up, 0) AS up, COALESCE(f.down, 0) AS down, COALESCE(f.corrected, 0) AS corrected, "
        "s.score AS score FROM requests r LEFT JOIN ("
        "  SELECT request_id, MAX(CASE WHEN thumbs = 'up' THEN 1 ELSE 0 END) AS up, "
        "  MAX(CASE WHEN thumbs = 'down' THEN 1 ELSE 0 END) AS down, "
        "  MAX(CASE WHEN corrected_output IS NOT NULL THEN 1 ELSE 0 END) AS corrected FROM feedback GROUP BY request_id"
        ") f ON f.request_id = r.request_id LEFT JOIN ("
        "  SELECT request_id, AVG(score) AS score FROM scores WHERE source = 'online' AND score IS NOT NULL "
        "  GROUP BY request_id"
        ") s ON s.request_id = r.request_id WHERE r.created_at >= ? ORDER BY r.created_at DESC LIMIT ?",
        (since, limit),
    )
    rows.reverse()
    series: dict[str, Any] = {"labels": [], "buckets": []}
    if rows:
        t0, t1 = rows[0]["created_at"], rows[-1]["created_at"]
        width = max((t1 - t0) / buckets, 1.0)
        groups: list[list[dict[str, Any]]] = [[] for _ in range(buckets)]
        for r in rows:
            groups[min(buckets - 1, int((r["created_at"] - t0) / width))].append(r)
        fmt = "%H:%M:%S" if t1 - t0 < 3600 else ("%H:%M" if t1 - t0 < 86400 else "%m-%d %H:%M")
        series["labels"] = [time.strftime(fmt, time.localtime(t0 + width * i)) for i in range(buckets)]
        series["buckets"] = [_summary(g) for g in groups]
        for key in ("variant", "model", "prompt_version"):  # over time, one line per value (the 6 busiest)
            counts: dict[str, int] = {}
            for r in rows:
                counts[str(r[key] or "-")] = counts.get(str(r[key] or "-"), 0) + 1
            top = sorted(counts, key=lambda k: -counts[k])[:6]
            series[f"by_{key}"] = {
                value: [_summary([r for r in g if str(r[key] or "-") == value]) for g in groups] for value in top
            }
    breakdowns = {}
    for key in ("prompt_version", "model", "variant"):
        groups_by: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups_by.setdefault(str(r[key] or "-"), []).append(r)
        breakdowns[key] = {k: _summary(v) for k, v in sorted(groups_by.items())}
    score_names = store.query(
        "SELECT name, AVG(score) AS mean, COUNT(*) AS n FROM scores WHERE created_at >= ? AND score IS NOT NULL "
        "AND source = 'online' GROUP BY name ORDER BY name",
        (since,),
    )
    newest = list(reversed(rows))
    failures = [r for r in newest if r["error_code"]][:15]
    negative = [r for r in newest if r["down"] or r["corrected"]][:15]
    experiments = []
    for e in ExperimentStore().list():
        try:
            rep = report(store, e)
            experiments.append({
                "name": e.name, "endpoint": e.endpoint, "status": e.status, "decision": rep["decision"],
                "reason": rep["reason"], "requests": {k: v["requests"] for k, v in rep["variants"].items()},
            })  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one broken experiment must not hide the dashboard
            experiments.append({"name": e.name, "endpoint": e.endpoint, "status": e.status, "decision": None,
                                "reason": f"report failed: {exc}", "requests": {}})  # fmt: skip
    keep = ("request_id", "created_at", "endpoint", "name", "variant", "error_code", "error_message", "trace_id",
            "trace_sampled", "up", "down", "corrected")  # fmt: skip
    return {
        "since": since,
        "summary": _summary(rows),
        "series": series,
        "breakdowns": breakdowns,
        "online_scores": {r["name"]: {"mean": float(r["mean"]), "n": int(r["n"])} for r in score_names},
        "experiments": experiments,
        "failures": [{k: r[k] for k in keep} for r in failures],
        "negative": [{k: r[k] for k in keep} for r in negative],
    }


# --- HTML ---------------------------------------------------------------------------------------------------
def trace_url(phoenix: str, trace_id: str) -> str:
    """A link Phoenix's UI resolves to the trace (its `/redirects/traces/<otel trace id>` route)."""
    return f"{phoenix.rstrip('/')}/redirects/traces/{trace_id}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f} ms"


def _num(v: float | None, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _css() -> str:
    return (Path(__file__).parent / "static" / "dashboard.css").read_text()


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_css()}</style></head><body>{body}</body></html>"
    )


def _requests_table(rows: list[dict[str, Any]], phoenix: str, what: str) -> str:
    if not rows:
        return f'<p class="muted">No {what}.</p>'
    head = "<tr><th>time</th><th>endpoint</th><th>variant</th><th>what</th><th>request</th><th>trace</th></tr>"
    body = []
    for r in rows:
        if r.get("error_code"):
            said = f"{r['error_code']}: {(r.get('error_message') or '')[:80]}"
        else:
            said = "thumbs down" if r["down"] else "corrected"
        link = (
            f'<a class="trace-link" href="{html.escape(trace_url(phoenix, r["trace_id"]))}">{r["trace_id"][:12]}…</a>'
            if r.get("trace_id") and r.get("trace_sampled") is not False
            else ("not sampled" if r.get("trace_id") else "–")
        )
        body.append(
            f"<tr><td>{time.strftime('%m-%d %H:%M:%S', time.localtime(r['created_at']))}</td>"
            f"<td>{html.escape(str(r['endpoint']))}/{html.escape(str(r['name'] or ''))}</td>"
            f"<td>{html.escape(str(r['variant']))}</td><td>{html.escape(said)}</td>"
            f"<td><code>{r['request_id'][:12]}…</code></td><td>{link}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def render_dashboard(data: dict[str, Any], phoenix: str) -> str:
    """The dashboard page: tiles, charts (inline SVG), breakdowns, experiments, failures and negative feedback."""
    s = data["summary"]
    tiles = [
        ("requests", str(s["requests"])), ("error rate", _pct(s["error_rate"])),
        ("latency p50", _ms(s["latency_ms_p50"])), ("latency p95", _ms(s["latency_ms_p95"])),
        ("cost", f"${s['cost_usd']:.4f}"), ("thumbs-up rate", _pct(s["thumbs_up_rate"])),
        ("correction rate", _pct(s["correction_rate"])), ("online-eval score", _num(s["online_score"])),
    ]  # fmt: skip
    parts = [
        '<header><b>aiagents dashboard</b><span><a href="' + html.escape(phoenix) + '">Phoenix</a> · '
        '<form method="post" action="/dashboard/logout" style="display:inline"><button>log out</button></form>'
        "</span></header><main>",
        '<div class="tiles">' + "".join(f'<div class="tile">{k}<b>{v}</b></div>' for k, v in tiles) + "</div>",
    ]
    labels, b = data["series"]["labels"], data["series"]["buckets"]
    charts = []
    if labels:
        charts.append(bar_chart("Requests", labels, [float(x["requests"]) for x in b]))
        charts.append(line_chart("Error rate", labels, {"errors": [x["error_rate"] for x in b]}, y_max=1.0))
        charts.append(
            line_chart(
                "Latency (ms)",
                labels,
                {"p50": [x["latency_ms_p50"] for x in b], "p95": [x["latency_ms_p95"] for x in b]},
            )
        )
        charts.append(bar_chart("Cost (USD)", labels, [float(x["cost_usd"]) for x in b]))
        charts.append(
            line_chart(
                "Feedback", labels,
                {"thumbs-up rate": [x["thumbs_up_rate"] for x in b],
                 "correction rate": [x["correction_rate"] for x in b]},
                y_max=1.0,
            )
        )  # fmt: skip
        charts.append(
            line_chart("Online-eval score (mean)", labels, {"score": [x["online_score"] for x in b]}, y_max=1.0)
        )
        by = data["series"]
        for key, metric, title, top in (
            ("variant", "thumbs_up_rate", "Thumbs-up rate by variant", 1.0),
            ("variant", "latency_ms_p95", "Latency p95 (ms) by variant", None),
            ("model", "error_rate", "Error rate by model", 1.0),
            ("prompt_version", "online_score", "Online-eval score by prompt version", 1.0),
        ):
            groups = by.get(f"by_{key}", {})
            if groups:
                lines = {name: [x[metric] for x in values] for name, values in groups.items()}
                charts.append(line_chart(title, labels, lines, y_max=top))
    parts.append("<h2>Over time</h2>")
    parts.append(
        '<div class="charts">' + "".join(f'<div class="chart">{c}</div>' for c in charts) + "</div>"
        if charts
        else '<p class="muted">No requests logged yet.</p>'
    )
    for key, title in (("variant", "By variant"), ("prompt_version", "By prompt version"), ("model", "By model")):
        rows = data["breakdowns"][key]
        head = (
            f"<tr><th>{key}</th><th>requests</th><th>error rate</th><th>p50</th><th>p95</th><th>cost</th>"
            "<th>thumbs-up</th><th>corrections</th><th>online score</th></tr>"
        )
        body = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v['requests']}</td><td>{_pct(v['error_rate'])}</td>"
            f"<td>{_ms(v['latency_ms_p50'])}</td><td>{_ms(v['latency_ms_p95'])}</td><td>${v['cost_usd']:.4f}</td>"
            f"<td>{_pct(v['thumbs_up_rate'])}</td><td>{_pct(v['correction_rate'])}</td><td>{_num(v['online_score'])}</td></tr>"
            for k, v in rows.items()
        )
        parts.append(f"<h2>{title}</h2><table>{head}{body}</table>")
    if data["online_scores"]:
        body = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v['mean']:.3f}</td><td>{v['n']}</td></tr>"
            for k, v in data["online_scores"].items()
        )
        parts.append(f"<h2>Online evals</h2><table><tr><th>score</th><th>mean</th><th>n</th></tr>{body}</table>")
    parts.append("<h2>Experiments</h2>")
    if data["experiments"]:
        cls = {"ship": "ship", "roll back": "roll", "keep running": "keep"}
        body = "".join(
            f"<tr><td>{html.escape(e['name'])}</td><td>{html.escape(e['endpoint'])}</td><td>{e['status']}</td>"
            f"<td>{', '.join(f'{html.escape(k)}: {v}' for k, v in e['requests'].items())}</td>"
            f'<td class="{cls.get(e["decision"] or "", "")}">{html.escape(str(e["decision"]))}</td>'
            f"<td>{html.escape(e['reason'] or '')}</td></tr>"
            for e in data["experiments"]
        )
        parts.append(
            "<table><tr><th>experiment</th><th>endpoint</th><th>status</th><th>requests</th><th>decision</th>"
            f"<th>why</th></tr>{body}</table>"
        )
    else:
        parts.append('<p class="muted">No experiments (<code>aiagents ab start</code>).</p>')
    parts.append("<h2>Latest errors</h2>" + _requests_table(data["failures"], phoenix, "errors"))
    parts.append("<h2>Latest negative feedback</h2>" + _requests_table(data["negative"], phoenix, "negative feedback"))
    parts.append("</main>")
    return _page("aiagents dashboard", "".join(parts))


def _login_page(error: str | None = None) -> str:
    msg = f'<p class="error">{html.escape(error)}</p>' if error else ""
    return _page(
        "aiagents dashboard: log in",
        '<form class="login" method="post" action="/dashboard/login"><h2>aiagents dashboard</h2>'
        f'{msg}<label>Admin API key<input type="password" name="key" autocomplete="current-password" autofocus>'
        '</label><button type="submit">Log in</button></form>',
    )


# --- session cookie -----------------------------------------------------------------------------------------
class SessionSigner:
    """`session id.fingerprint.expiry.hmac` cookies signed with the service secret. The signature makes them
    unforgeable; the store's `revoked_sessions` table ends them early (logout), and the fingerprint binds them
    to the admin key that logged in (removed from `AIAGENTS_ADMIN_KEYS`, its sessions stop working)."""

    def __init__(self, secret: bytes, max_age: int = SESSION_SECONDS) -> None:
        self._secret = hashlib.sha256(b"aiagents-dashboard\0" + secret).digest()
        self.max_age = max_age

    def _sig(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, fingerprint: str, now: float | None = None) -> str:
        payload = f"{secrets.token_hex(12)}.{fingerprint}.{int((now or time.time()) + self.max_age)}"
        return f"{payload}.{self._sig(payload)}"

    def verify(self, token: str | None, now: float | None = None) -> Session | None:
        """The session of a valid, unexpired cookie; None otherwise."""
        if not token or token.count(".") != 3:
            return None
        session_id, fingerprint, expiry, sig = token.split(".")
        if not hmac.compare_digest(sig, self._sig(f"{session_id}.{fingerprint}.{expiry}")):
            return None
        if not expiry.isdigit() or int(expiry) < (now or time.time()):
            return None
        return Session(session_id=session_id, fingerprint=fingerprint, expires_at=float(expiry))


@dataclass(frozen=True, kw_only=True)
class Session:
    """A dashboard session from a verified cookie."""

    session_id: str
    fingerprint: str
    """The fingerprint of the admin key that logged in."""
    expires_at: float


# --- the ASGI app -------------------------------------------------------------------------------------------
class DashboardGate:
    """ASGI middleware in front of the service: `/dashboard*` is answered here (admin key or session cookie),
    everything else goes on to the API (and its key guard)."""

    def __init__(self, app: Any, *, state: Any) -> None:
        self.app = app
        self.state = state
        max_age = int(state.settings.dashboard_session_hours * 3600)
        self.signer = SessionSigner(service_secret(state.settings), max_age=max_age)
        self.phoenix = phoenix_url()
        self.dash = Starlette(
            routes=[
                Route("/dashboard", self.page, methods=["GET"]),
                Route("/dashboard/data.json", self.data, methods=["GET"]),
                Route("/dashboard/login", self.login_form, methods=["GET"]),
                Route("/dashboard/login", self.login, methods=["POST"]),
                Route("/dashboard/logout", self.logout, methods=["POST"]),
            ]
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and (scope["path"] == "/dashboard" or scope["path"].startswith("/dashboard/")):
            await self.dash(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _who(self, request: Request) -> tuple[bool, bool]:
        """(admin, a credential was given)."""
        authorization = request.headers.get("authorization")
        if authorization or self.state.keys.open:
            principal = self.state.keys.authenticate(authorization)
            if principal is not None:
                return principal.admin, True
        session = self.signer.verify(request.cookies.get(COOKIE))
        return session is not None and self._alive(session), bool(authorization)

    def _alive(self, session: Session) -> bool:
        """Its admin key is still configured, and nobody logged it out."""
        if session.fingerprint not in self.state.keys.admin_fingerprints and not self.state.keys.open:
            return False
        store = self.state.store
        return store is None or not store.session_revoked(session.session_id)

    def _refuse(self, request: Request, given: bool) -> Response:
        if given:
            return JSONResponse(
                error_body("forbidden", "the dashboard needs an admin key (AIAGENTS_ADMIN_KEYS)"), status_code=403
            )
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/dashboard/login", status_code=303)
        return JSONResponse(
            error_body("unauthorized", "send 'Authorization: Bearer ADMIN_KEY' or log in at /dashboard/login"),
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )

    async def _data(self, request: Request) -> dict[str, Any]:
        """`?hours=N` (default 168: the last week) sets the window."""
        state = self.state
        try:
            hours = min(max(float(request.query_params.get("hours", "168")), 0.01), 24 * 366)
        except ValueError:
            hours = 168.0
        if not math.isfinite(hours):  # "nan" parses as a float and passes min/max unchanged
            hours = 168.0
        if state.writer is not None:
            await asyncio.to_thread(state.writer.flush, 5)
        return await asyncio.to_thread(dashboard_data, state.store, since=time.time() - hours * 3600)

    async def page(self, request: Request) -> Response:
        admin, given = self._who(request)
        if not admin:
            return self._refuse(request, given)
        return HTMLResponse(render_dashboard(await self._data(request), self.phoenix), headers=_SECURITY_HEADERS)

    async def data(self, request: Request) -> Response:
        admin, given = self._who(request)
        if not admin:
            return self._refuse(request, given)
        return JSONResponse(await self._data(request))

    async def login_form(self, request: Request) -> Response:
        return HTMLResponse(_login_page(), headers=_SECURITY_HEADERS)

    async def login(self, request: Request) -> Response:
        raw = b""
        async for chunk in request.stream():  # a login form is tiny: read at most 4 KiB of whatever is sent
            raw += chunk
            if len(raw) > 4096:
                break
        body = raw[:4096].decode("utf-8", "replace")
        key = (parse_qs(body).get("key") or [""])[0].strip()
        principal = self.state.keys.authenticate(f"Bearer {key}") if key else None
        if principal is None or not principal.admin:
            return HTMLResponse(_login_page("That is not an admin key."), status_code=401, headers=_SECURITY_HEADERS)
        response = RedirectResponse("/dashboard", status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(
            COOKIE, self.signer.issue(principal.fingerprint), max_age=self.signer.max_age, httponly=True,
            samesite="strict", secure=secure, path="/dashboard",
        )  # fmt: skip
        return response

    async def logout(self, request: Request) -> Response:
        session = self.signer.verify(request.cookies.get(COOKIE))
        if session is not None and self.state.store is not None:  # ended for every worker, not just this browser
            await asyncio.to_thread(self.state.store.revoke_session, session.session_id, session.expires_at)
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(COOKIE, path="/dashboard")
        return response
