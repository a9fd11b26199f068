"""`aiagents ab start|stop|ship|list|report`: A/B experiments on a service endpoint; the demo's loop step."""

from __future__ import annotations

import mimetypes
from typing import Any

import typer
from rich.table import Table

from aiagents.cli.demo_space import read_demo_data_unless_yours
from aiagents.cli.output import console, out, print_json, run_guarded

__all__ = ["register", "print_report", "step_improvement_loop", "check_variants", "ship"]

ab_app = typer.Typer(help="A/B rollout: experiments with variants, guardrails and a report.", no_args_is_help=True)


def _iv(i: dict[str, Any], fmt: str) -> str:
    if i.get("value") is None:
        return "–"
    return f"{fmt.format(i['value'])} [{fmt.format(i['low'])}, {fmt.format(i['high'])}]"


def print_report(rep: dict[str, Any]) -> None:
    """The report as a table (stdout; one column per variant) with the test and the decision."""
    pct, ms, usd = "{:.1%}", "{:.0f}", "${:.5f}"
    names = list(rep["variants"])
    table = Table(
        "metric (95% interval)", *names,
        title=f"experiment {rep['experiment']!r} on {rep['endpoint']} ({rep['status']})",
    )  # fmt: skip
    v = rep["variants"]
    table.add_row("requests", *(str(v[n]["requests"]) for n in names))
    for key, label, fmt in (
        ("thumbs_up_rate", "thumbs-up rate", pct), ("correction_rate", "correction rate", pct),
        ("error_rate", "error rate", pct), ("latency_ms_p50", "latency p50 ms", ms),
        ("latency_ms_p95", "latency p95 ms", ms), ("cost_per_request", "cost / request", usd),
    ):  # fmt: skip
        table.add_row(label, *(_iv(v[n][key], fmt) for n in names))
    scores = sorted({s for n in names for s in v[n]["online_scores"]})
    for s in scores:
        table.add_row(
            f"online {s}",
            *(f"{v[n]['online_scores'][s]['mean']:.3f} (n={v[n]['online_scores'][s]['n']})"
              if s in v[n]["online_scores"] else "–" for n in names),
        )  # fmt: skip
    out.print(table)
    t = rep["test"]
    if "p_value" in t:
        out.print(
            f"{t['method']} on {t['metric']}: control {t['control'][0]}/{t['control'][1]}, candidate "
            f"{t['candidate'][0]}/{t['candidate'][1]}, diff {t['diff']:+.3f}, z {t['z']:.2f}, p {t['p_value']:.4f}"
        )
    style = {"ship": "green", "roll back": "red", "keep running": "yellow"}[rep["decision"]]
    out.print(f"decision: [bold {style}]{rep['decision']}[/] ({rep['reason']})")
    for e in rep["events"]:
        if e["kind"] == "guardrail_stop":
            out.print(f"[red]guardrail stop[/] of {e['variant']!r}: {e['reason']}")


def _report(name: str) -> dict[str, Any]:
    from aiagents.logstore import open_store
    from aiagents.rollout import ExperimentStore, report

    experiment = ExperimentStore().load(name)
    store = open_store()
    try:
        return report(store, experiment)
    finally:
        store.close()


def check_variants(endpoint: str, variants: list[Any]) -> None:
    """Refuse, before anything is saved, an experiment with a variant that cannot run: a prompt or a version or
    label that does not exist, a model that cannot be resolved (unknown form, no key), tools the agent has not,
    a retrieval mode on a non-RAG endpoint. The error names every problem and its variant."""
    from aiagents.errors import AiAgentsError
    from aiagents.models import resolve_model
    from aiagents.prompts import PromptRegistry
    from aiagents.rollout import ExperimentConfigError
    from aiagents.service.runners import AGENTS
    from aiagents.tools.docs_agent import DOCS_TOOLS

    kind, _, target = endpoint.partition("/")
    registry = PromptRegistry()
    problems: list[str] = []
    for v in variants:
        where = f"variant {v.name!r}"
        prompt = v.prompt or (target if kind == "tasks" else AGENTS.get(target) if kind == "agent" else None)
        if prompt is not None and (v.prompt or v.prompt_version or kind == "tasks"):
            try:
                registry.resolve(prompt, v.prompt_version)
            except AiAgentsError as exc:
                problems.append(f"{where}: {exc}")
        elif v.prompt_version and kind != "tasks":
            problems.append(f"{where}: prompt_version={v.prompt_version} needs a prompt (prompt=NAME)")
        if v.model:
            try:
                resolve_model(v.model)
            except AiAgentsError as exc:
                problems.append(f"{where}: model {v.model!r}: {exc}")
        if v.toolset:
            unknown = sorted({n.strip() for n in v.toolset.split(",") if n.strip()} - {*DOCS_TOOLS, "none"})
            if kind != "agent":
                problems.append(f"{where}: toolset applies to agent endpoints, not {endpoint!r}")
            elif unknown:
                problems.append(f"{where}: toolset names unknown tools {unknown}; the agent has {list(DOCS_TOOLS)}")
        if v.mode and kind != "ask":
            problems.append(f"{where}: mode applies to ask endpoints, not {endpoint!r}")
    if problems:
        raise ExperimentConfigError("the experiment cannot start: " + "; ".join(problems))


def ship(name: str, variant: str | None = None, *, force: bool = False) -> dict[str, Any]:
    """Promote an experiment's winning variant to what production serves, then end the experiment.

    The variant's prompt version (a label resolved now) becomes the serving label's version of the endpoint's
    prompt, with the variant's model stored with it when it has one. Refused unless the report's decision is
    `ship` (or `force`)."""
    from aiagents.logstore import open_store
    from aiagents.prompts import PromptRegistry
    from aiagents.rollout import ExperimentConfigError, ExperimentStore, record_event

    experiments = ExperimentStore()
    experiment = experiments.load(name)
    rep = _report(name)
    names = [v.name for v in experiment.variants]
    chosen = experiment.variant(variant) if variant else experiment.variants[-1]
    if rep["decision"] != "ship" and not force:
        raise ExperimentConfigError(
            f"experiment {name!r}: the report's decision is {rep['decision']!r} ({rep['reason']}); "
            "ship it anyway with --force"
        )
    kind, _, target = experiment.endpoint.partition("/")
    if kind != "tasks" or not target:
        raise ExperimentConfigError(f"experiment {name!r} on {experiment.endpoint!r}: only task endpoints ship")
    registry = PromptRegistry()
    prompt = registry.resolve(chosen.prompt or target, chosen.prompt_version)
    if prompt.name != target:
        raise ExperimentConfigError(
            f"variant {chosen.name!r} runs another prompt ({prompt.name!r}); copy it into {target!r} and promote that"
        )
    entry = registry.promote(target, prompt.version, model=chosen.model)
    from aiagents.cli.output import mirror_to_phoenix

    mirror_to_phoenix(target)
    experiments.end(name, reason=f"shipped {chosen.name!r} ({prompt.version})")
    store = open_store()
    try:
        record_event(
            store, name, "ship", variant=chosen.name, reason=rep["decision"], metadata={"version": prompt.version}
        )
    finally:
        store.close()
    return {"experiment": name, "variant": chosen.name, "variants": names, "decision": rep["decision"],
            "forced": rep["decision"] != "ship", "promoted": entry}  # fmt: skip


def register(app: typer.Typer) -> None:
    @ab_app.command("start")
    def start(
        name: str = typer.Argument(..., help="Experiment name."),
        endpoint: str = typer.Option(..., "--endpoint", help="'tasks/NAME', 'ask/INDEX' (or 'tasks' for all tasks)."),
        variant: list[str] = typer.Option(
            ...,
            "--variant",
            help="NAME:key=value,... with keys prompt, prompt_version, model, toolset, mode, share "
            "(percent). The first is the control. Shares left out split the rest equally.",
        ),  # fmt: skip
        min_sample: int = typer.Option(20, help="Candidate requests before a guardrail may stop it."),
        max_error_rate: float = typer.Option(0.10, help="Guardrail: stop above this error rate."),
        max_negative_rate: float = typer.Option(0.50, help="Guardrail: stop above this thumbs-down rate."),
        max_p95_ms: float | None = typer.Option(None, help="Guardrail: stop above this p95 latency (ms)."),
        primary_metric: str = typer.Option("thumbs_up_rate", help="thumbs_up_rate, error_rate or correction_rate."),
        replace: bool = typer.Option(False, "--replace", help="Replace a running experiment of that name."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Start an experiment (a running service picks it up within a second)."""
        from aiagents.logstore import open_store
        from aiagents.rollout import ExperimentStore, Guardrails, parse_variant, record_event

        def go() -> Any:
            variants = [parse_variant(v) for v in variant]
            guard = Guardrails(
                min_sample=min_sample, max_error_rate=max_error_rate, max_negative_rate=max_negative_rate,
                max_p95_ms=max_p95_ms,
            )  # fmt: skip
            e = ExperimentStore().create(
                name, endpoint, variants, guardrails=guard, primary_metric=primary_metric, replace=replace,
                check=check_variants,
            )  # fmt: skip
            store = open_store()
            record_event(store, name, "start", metadata={"variants": [v.name for v in e.variants]})
            store.close()
            return e

        e = run_guarded(go)
        if as_json:
            print_json(e.to_json())
            return
        shares = ", ".join(f"{v.name} {v.share:g}%" for v in e.variants)
        out.print(f"experiment {e.name!r} started on {e.endpoint}: {shares}")

    @ab_app.command("stop")
    def stop(
        name: str = typer.Argument(...),
        reason: str = typer.Option("stopped by hand", "--reason"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Stop an experiment: it overrides nothing any more (every user gets what production serves)."""
        from aiagents.logstore import open_store
        from aiagents.rollout import ExperimentStore, record_event

        def go() -> Any:
            e = ExperimentStore().end(name, reason=reason)
            store = open_store()
            record_event(store, name, "stop", reason=reason)
            store.close()
            return e

        e = run_guarded(go)
        if as_json:
            print_json(e.to_json())
        else:
            out.print(f"experiment {name!r} stopped: every user gets what production serves")

    @ab_app.command("ship")
    def ship_cmd(
        name: str = typer.Argument(...),
        variant: str | None = typer.Option(None, "--variant", help="The variant to ship (default: the candidate)."),
        force: bool = typer.Option(False, "--force", help="Ship although the report does not say 'ship'."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Promote a variant to production (its prompt version, and its model if it has one) and end the experiment."""
        result = run_guarded(ship, name, variant, force=force)
        if as_json:
            print_json(result)
            return
        promoted = result["promoted"]
        out.print(
            f"shipped {result['variant']!r} of {name!r}: {promoted['name']} {promoted['label']} -> "
            f"{promoted['version']}{' with ' + promoted['model'] if promoted.get('model') else ''} "
            f"(was {promoted['previous'] or 'the file'}); the experiment is stopped"
        )

    @ab_app.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """The experiments of this data folder."""
        from aiagents.rollout import ExperimentStore

        experiments = run_guarded(ExperimentStore().list)
        if as_json:
            print_json({"experiments": [e.to_json() for e in experiments]})
            return
        table = Table("name", "endpoint", "status", "variants", "stopped", title="experiments")
        for e in experiments:
            table.add_row(
                e.name, e.endpoint, e.status, ", ".join(f"{v.name} {v.share:g}%" for v in e.variants),
                f"{e.stopped_variant or ''} {e.stop_reason or ''}".strip(),
            )  # fmt: skip
        out.print(table)

    @ab_app.command("report")
    def report_cmd(
        name: str = typer.Argument(...),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Per-variant metrics with 95% intervals, the primary-metric test and a decision."""
        read_demo_data_unless_yours(experiment=name)
        rep = run_guarded(_report, name)
        if as_json:
            print_json(rep)
        else:
            print_report(rep)

    app.add_typer(ab_app, name="ab")
    from aiagents.cli.demo_cmd import DEMO_STEPS

    if step_improvement_loop not in DEMO_STEPS:
        DEMO_STEPS.append(step_improvement_loop)


DEMO_EXPERIMENT = "demo"
DEMO_USERS = 160
DEMO_THUMBS_UP = {"control": 0.85, "candidate": 0.55}
"""Simulated users: the probability a user gives thumbs up (else down) to an answer of each variant."""
DEMO_LISTINGS_MORE = [
    "Vintage oak dining table, seats 6, some scratches, 120 EUR or best offer.",
    "iPhone 12 64GB, screen cracked, for parts: 80 euros.",
    "Free: old garden chairs (4), come and take them.",
    "Winter jacket size M, worn twice, 35 EUR.",
    "Electric guitar with amp, good condition, 220 EUR.",
]


def step_improvement_loop(ctx: Any) -> None:
    """Improvement loop: experiment `demo` through the service with simulated users and feedback, the A/B
    report, the dashboard, and annotated cases exported into an eval dataset."""
    import os
    import random
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from rich.rule import Rule

    from aiagents.annotate import annotated_cases, next_item, record, sample
    from aiagents.cli.demo_cmd import DEMO_LISTINGS
    from aiagents.cli.serve_cmd import start_service_process
    from aiagents.logstore import open_store
    from aiagents.rollout import ExperimentStore, Guardrails, Variant, record_event, report

    console.print(Rule("Improvement loop: A/B experiment 'demo', online evals, dashboard, annotation"))
    ExperimentStore().create(
        DEMO_EXPERIMENT, "tasks/listing-attributes",
        [Variant(name="control", share=50, prompt="listing-attributes"),
         Variant(name="candidate", share=50, prompt="listing-attributes-v2")],
        guardrails=Guardrails(min_sample=20, max_error_rate=0.2, max_negative_rate=0.6), replace=True,
    )  # fmt: skip
    client_key = (os.environ.get("AIAGENTS_API_KEYS") or "demo-client-key").split(",")[0].strip()
    admin_key = (os.environ.get("AIAGENTS_ADMIN_KEYS") or "demo-admin-key").split(",")[0].strip()
    env = {
        "AIAGENTS_MODEL": ctx.model, "PHOENIX_COLLECTOR_ENDPOINT": ctx.phoenix, "AIAGENTS_ONLINE_EVAL_RATE": "1",
        "AIAGENTS_API_KEYS": os.environ.get("AIAGENTS_API_KEYS") or client_key,
        "AIAGENTS_ADMIN_KEYS": os.environ.get("AIAGENTS_ADMIN_KEYS") or admin_key,
    }  # fmt: skip
    proc, url = start_service_process(env=env)
    store = open_store()
    record_event(store, DEMO_EXPERIMENT, "start", metadata={"users": DEMO_USERS, "simulated": True})
    listings = DEMO_LISTINGS + DEMO_LISTINGS_MORE
    rng = random.Random(7)
    draws = [(f"demo-user-{i}", listings[i % len(listings)], rng.random(), rng.random()) for i in range(DEMO_USERS)]
    headers = {"Authorization": f"Bearer {client_key}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:

            def one(user: str, listing: str, u1: float, u2: float) -> str:
                r = http.post("/v1/tasks/listing-attributes", json={"input": {"listing": listing}, "user_id": user})
                r.raise_for_status()
                answer = r.json()
                variant = answer["variant"]
                fb: dict[str, Any] = {"request_id": answer["request_id"], "user_id": user}
                fb["thumbs"] = "up" if u1 < DEMO_THUMBS_UP.get(variant, 0.85) else "down"
                http.post("/v1/feedback", json=fb).raise_for_status()
                if fb["thumbs"] == "down" and u2 < 0.3:  # some unhappy users fix the output themselves
                    fix = {**answer["output"], "title": answer["output"].get("title", "").split(",")[0].strip()}
                    http.post("/v1/feedback", json={"request_id": answer["request_id"], "corrected_output": fix,
                                                    "user_id": user}).raise_for_status()  # fmt: skip
                if answer.get("trace_id"):
                    ctx.trace_ids.append(answer["trace_id"])
                return str(variant)

            with ThreadPoolExecutor(4) as pool:
                served = list(pool.map(lambda d: one(*d), draws))
            page = http.get("/dashboard", headers={"Authorization": f"Bearer {admin_key}"})
            charts = page.text.count("<svg") if page.status_code == 200 else 0
    finally:
        proc.terminate()
        proc.wait(60)
    out.print(
        f"{len(served)} simulated users ({served.count('control')} control, {served.count('candidate')} candidate); "
        f"simulated feedback: thumbs-up probability {DEMO_THUMBS_UP['control']} for control answers, "
        f"{DEMO_THUMBS_UP['candidate']} for candidate answers"
    )
    rep = report(store, ExperimentStore().load(DEMO_EXPERIMENT))
    print_report(rep)
    ctx.notes["ab_report"] = {"decision": rep["decision"], "reason": rep["reason"]}
    # the demo leaves nothing live: its experiment ends with the decision it reached
    ExperimentStore().end(DEMO_EXPERIMENT, reason=f"demo finished: {rep['decision']} ({rep['reason']})")
    record_event(store, DEMO_EXPERIMENT, "stop", reason=f"demo finished: {rep['decision']}")
    out.print(
        f"Dashboard: {url}/dashboard ({charts} charts; admin key required; `aiagents serve` serves it again "
        f"on http://127.0.0.1:8000/dashboard)"
    )
    # Annotation: draw requests into the queue, label them as a scripted annotator would, export the cases.
    drawn = sample(store, 8, seed=1)
    for _ in drawn:
        item = next_item(store)
        if item is None:
            break
        fixes = [f["corrected_output"] for f in item["feedback"] if f.get("corrected_output") is not None]
        if fixes:
            record(store, item["item_id"], verdict="bad", label="title too long", correct_output=fixes[0],
                   annotator="demo-annotator")  # fmt: skip
        else:
            record(store, item["item_id"], verdict="good", label="ok", annotator="demo-annotator")
    from aiagents.settings import get_settings

    target = get_settings().data_dir / "datasets" / "listing-attributes.yaml"
    added, total, _ = export_cases(annotated_cases(store, name="listing-attributes"), target)
    store.close()
    out.print(
        f"Annotation: {len(drawn)} requests drawn ({', '.join(sorted({d.reason for d in drawn}))}), "
        f"{added} cases added to {target} ({total} cases); `aiagents eval run {target}` runs them"
    )


def export_cases(cases: list[dict[str, Any]], path: Any) -> tuple[int, int, list[str]]:
    """Add annotated cases to the dataset file `path` (created if missing) with provenance, skipping duplicates.

    Uploaded images and files the service kept (logged as `{"sha256", "media_type", "bytes"}`) are copied next
    to the dataset (`media/<sha256 prefix>.<ext>`) and become the case's media inputs, so `aiagents eval run`
    sends the same image again. Returns (cases added, cases in the dataset, request ids left out because their
    media were pruned). Lives in the CLI layer: the core does not import `evals`.
    """
    from datetime import UTC, datetime
    from pathlib import Path

    from aiagents.annotate import media_refs
    from aiagents.evals.datasets import Case, Dataset, MediaFile, Provenance
    from aiagents.media_store import MediaPrunedError, MediaStore

    path = Path(path)
    ds = Dataset.load(path) if path.exists() else Dataset(name=path.stem)
    media_store = MediaStore()
    added, pruned = 0, []
    for c in cases:
        inputs, media = c["inputs"], []
        refs = media_refs(inputs)
        if refs:
            inputs = dict(inputs)
            try:
                for name, ref in refs.items():
                    data = media_store.read(ref["sha256"])
                    relative = f"media/{ref['sha256'][:16]}{mimetypes.guess_extension(ref['media_type']) or ''}"
                    target = path.parent / relative
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(data)
                    inputs[name] = MediaFile(relative, path.parent)
                    media.append(name)
            except MediaPrunedError:
                pruned.append(c["request_id"])
                continue
        when = datetime.fromtimestamp(c["annotated_at"] or 0, tz=UTC).isoformat(timespec="seconds")
        tags = ["annotated", "candidate" if c["candidate"] else "reviewed", f"verdict:{c['verdict']}"]
        prefix = "correction" if c["candidate"] else "annotation"
        case = Case(
            name=f"{prefix}-{c['request_id'][:12]}", inputs=inputs, expected_output=c["expected_output"],
            tags=tags, media=media,
            metadata={"label": c.get("label"), "task": c.get("task")},
            provenance=Provenance(
                source="annotation", request_id=c["request_id"], trace_id=c.get("trace_id"), annotator=c["annotator"],
                added_at=when, note=("user correction from feedback (candidate)" if c["candidate"] else c.get("label")),
            ),
        )  # fmt: skip
        if ds.add(case):
            added += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save(path)
    return added, len(ds), pruned
