"""What the service holds for the improvement loop: the experiment router and the online-eval worker.

Guardrails are applied twice: by the router on what this worker served (at once), and every 2 s by a
watcher on what the log store holds (every worker's requests, feedback that reached another worker).
Configured by environment variables (read when the service starts):
`AIAGENTS_ONLINE_EVAL_RATE` (share of successful requests scored, default 0.25; 0 turns online evals off)
and `AIAGENTS_ONLINE_EVAL_SUITE` (a shipped suite name or a YAML file, default `default`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from aiagents.logstore import LogStore
from aiagents.rollout.router import Assignment, ExperimentRouter, GuardrailWatcher

__all__ = ["LoopHooks", "start_loop", "variant_overrides"]

log = logging.getLogger("aiagents.service")


@dataclass(kw_only=True)
class LoopHooks:
    """The service's router (always) and online-eval worker (None when the rate is 0 or there is no log)."""

    router: ExperimentRouter
    watcher: GuardrailWatcher | None = None
    online: Any = None

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.online is not None:
            self.online.stop()


def start_loop(
    store: LogStore, *, log_requests: bool, phoenix_url: str | None, phoenix_api_key: str | None
) -> LoopHooks:
    router = ExperimentRouter(store=store)
    hooks = LoopHooks(router=router, watcher=GuardrailWatcher(router).start() if log_requests else None)
    rate = float(os.environ.get("AIAGENTS_ONLINE_EVAL_RATE", "0.25") or 0)
    if log_requests and rate > 0:
        from aiagents.online import OnlineEvalWorker, load_suite

        suite = os.environ.get("AIAGENTS_ONLINE_EVAL_SUITE", "default") or "default"
        try:
            evaluators = load_suite(suite)
        except Exception as exc:  # noqa: BLE001 - a bad suite must not stop the service; said in its log
            log.error("online evals off: %s", exc)
            return hooks
        hooks.online = OnlineEvalWorker(
            store, evaluators, sample_rate=rate, phoenix_url=phoenix_url, phoenix_api_key=phoenix_api_key
        ).start()
    return hooks


def variant_overrides(assignment: Assignment | None) -> dict[str, Any]:
    """The runner arguments of a variant: prompt, version, model (None values left out)."""
    if assignment is None:
        return {}
    v = assignment.variant
    return {k: val for k, val in {"prompt": v.prompt, "version": v.prompt_version, "model": v.model}.items() if val}
