"""`ExperimentRouter`: what the service asks before a request runs (which variant?) and tells after it (how did
it go?). It applies the guardrails: a candidate whose error rate, negative-feedback rate or p95 latency
exceeds its threshold over at least `min_sample` of its requests is stopped (its users go back to the
control); the stop is written to the experiment file, the log store and the service log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from aiagents.logstore import LogStore
from aiagents.rollout.assign import assign
from aiagents.rollout.config import Experiment, ExperimentStore, Guardrails, Variant
from aiagents.rollout.events import record_event
from aiagents.rollout.stats import percentile

__all__ = ["Assignment", "ExperimentRouter", "GuardrailWatcher", "VariantCounters", "guardrail_breach"]

log = logging.getLogger("aiagents.rollout")
RELOAD_SECONDS = 0.5


@dataclass(kw_only=True)
class Assignment:
    """The experiment and variant serving one request."""

    experiment: str
    variant: Variant
    candidate: bool = False
    """True when the variant is not the experiment's control: its traces are kept whatever the sampling ratio."""


@dataclass(kw_only=True)
class VariantCounters:
    """What this process saw of one variant since the experiment started."""

    requests: int = 0
    errors: int = 0
    negative: int = 0
    latencies: list[float] = field(default_factory=list)


def guardrail_breach(c: VariantCounters, g: Guardrails) -> str | None:
    """The reason to stop a variant with counters `c`, or None (also None below `min_sample` requests)."""
    if c.requests < g.min_sample:
        return None
    error_rate = c.errors / c.requests
    if g.max_error_rate is not None and error_rate > g.max_error_rate:
        return f"error rate {error_rate:.3f} > {g.max_error_rate} over {c.requests} requests"
    negative = c.negative / c.requests
    if g.max_negative_rate is not None and negative > g.max_negative_rate:
        return f"negative-feedback rate {negative:.3f} > {g.max_negative_rate} over {c.requests} requests"
    p95 = percentile(c.latencies, 0.95)
    if g.max_p95_ms is not None and p95 is not None and p95 > g.max_p95_ms:
        return f"p95 latency {p95:.0f} ms > {g.max_p95_ms:g} ms over {c.requests} requests"
    return None


class ExperimentRouter:
    """Experiments of one data folder, re-read when their files change; thread-safe."""

    def __init__(self, experiments: ExperimentStore | None = None, store: LogStore | None = None) -> None:
        self.experiments = experiments or ExperimentStore()
        self.store = store
        self._lock = threading.Lock()
        self._loaded: dict[str, Experiment] = {}
        self._stamp: tuple[tuple[str, float], ...] = ()
        self._checked = 0.0
        self._counters: dict[tuple[str, str], VariantCounters] = {}
        self._recent: OrderedDict[str, tuple[str, str]] = OrderedDict()

    # experiments -------------------------------------------------------------------------------------
    def _reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < RELOAD_SECONDS:
            return
        self._checked = now
        try:
            stamp = self.experiments.stamp()
        except Exception as exc:  # noqa: BLE001 - the shared database is down: keep routing as before
            log.error("experiments not re-read: %s", exc)
            return
        if stamp == self._stamp:
            return
        loaded: dict[str, Experiment] = {}
        for name, _ in stamp:
            try:
                e = self.experiments.load(name)
            except Exception as exc:  # noqa: BLE001 - a bad file must not break serving; said in the log
                log.error("experiment file ignored: %s", exc)
                continue
            old = self._loaded.get(e.name)
            if old is None or old.created_at != e.created_at:  # new or restarted: fresh counters
                for key in [k for k in self._counters if k[0] == e.name]:
                    del self._counters[key]
            loaded[e.name] = e
        self._loaded, self._stamp = loaded, stamp

    def active(self) -> list[Experiment]:
        with self._lock:
            self._reload()
            return list(self._loaded.values())

    def route(self, endpoint: str, user_id: str | None, session_id: str | None = None) -> Assignment | None:
        """The assignment for a request to `endpoint` ('tasks/NAME', 'ask/INDEX'), None outside experiments.

        Sticky by user; without a user id, by session."""
        with self._lock:
            self._reload()
            for e in self._loaded.values():
                if e.status != "ended" and e.matches(endpoint):  # stopped by a guardrail: `assign` gives the control
                    variant = assign(e, user_id, session_id)
                    return Assignment(experiment=e.name, variant=variant, candidate=variant.name != e.control.name)
        return None  # outside experiments (an ended or shipped one overrides nothing): what production serves

    # outcomes ----------------------------------------------------------------------------------------
    def observe(self, experiment: str, variant: str, request_id: str, *, latency_ms: float, error: bool) -> None:
        """Count one finished request of `variant`; stop the variant when a guardrail fires."""
        with self._lock:
            c = self._counters.setdefault((experiment, variant), VariantCounters())
            c.requests += 1
            c.errors += int(error)
            c.latencies.append(latency_ms)
            self._recent[request_id] = (experiment, variant)
            while len(self._recent) > 100_000:
                self._recent.popitem(last=False)
            self._check(experiment, variant, c)

    def observe_feedback(self, request_id: str, thumbs: str | None) -> None:
        """Count a thumbs-down on a request this process served."""
        if thumbs != "down":
            return
        with self._lock:
            key = self._recent.get(request_id)
            if key is None:
                return
            c = self._counters.setdefault(key, VariantCounters())
            c.negative += 1
            self._check(*key, c)

    def counters(self, experiment: str, variant: str) -> VariantCounters:
        with self._lock:
            return self._counters.get((experiment, variant), VariantCounters())

    def check_store(self) -> list[tuple[str, str]]:
        """Apply the guardrails to what the log store holds: every worker's requests and all feedback (feedback
        may reach another worker than the request did). Returns the (experiment, variant) pairs it stopped."""
        if self.store is None:
            return []
        from aiagents.rollout.report import variant_rows

        stopped = []
        for e in self.active():
            if e.status != "running":
                continue
            rows = variant_rows(self.store, e.name, since=e.created_at)
            for v in e.variants[1:]:
                mine = [r for r in rows if r["variant"] == v.name]
                c = VariantCounters(
                    requests=len(mine),
                    errors=sum(1 for r in mine if r["error_code"]),
                    negative=sum(int(r["down"]) for r in mine),
                    latencies=[float(r["latency_ms"]) for r in mine],
                )
                with self._lock:
                    if self._check(e.name, v.name, c, source="log store"):
                        stopped.append((e.name, v.name))
        return stopped

    def _check(self, experiment: str, variant: str, c: VariantCounters, source: str = "this worker") -> bool:
        e = self._loaded.get(experiment)
        if e is None or e.status != "running" or variant == e.control.name or variant == e.stopped_variant:
            return False
        reason = guardrail_breach(c, e.guardrails)
        if reason is None:
            return False
        e.stopped_variant = variant  # in memory at once: the next request of this process goes to the control
        if len(e.variants) <= 2:
            e.status = "stopped"
        e.stop_reason = reason
        log.warning("experiment %r: variant %r stopped by a guardrail: %s (%s)", experiment, variant, reason, source)
        try:
            self.experiments.stop(experiment, reason=reason, variant=variant)
        except Exception as exc:  # noqa: BLE001 - serving goes on; the stop holds in this process
            log.error("experiment %r: could not write the stop: %s", experiment, exc)
        if self.store is not None:
            try:
                record_event(
                    self.store, experiment, "guardrail_stop", variant=variant, reason=reason,
                    metadata={"counted_by": source},
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001
                log.error("experiment %r: could not log the stop: %s", experiment, exc)
        return True


class GuardrailWatcher:
    """A daemon thread running `router.check_store()` every `interval` seconds (off the request path)."""

    def __init__(self, router: ExperimentRouter, interval: float = 2.0) -> None:
        self.router = router
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="guardrail-watcher", daemon=True)

    def start(self) -> GuardrailWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.router.check_store()
            except Exception as exc:  # noqa: BLE001 - the store may be busy; next round
                log.warning("guardrail check on the log store failed: %s", exc)
