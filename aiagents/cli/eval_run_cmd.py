"""`aiagents eval run | compare | push-dataset`: run a suite, compare two runs (the regression gate), push
a dataset to Phoenix. Also appends the prompt-comparison step to the demo."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import typer
from rich.rule import Rule
from rich.table import Table

from aiagents.cli.output import console, fail, mirror_to_phoenix, note_model, out, print_json, run_guarded
from aiagents.errors import UserError
from aiagents.models import check_output_mode
from aiagents.settings import get_settings, reset_settings

__all__ = ["register", "comparison_table", "step_eval_prompt_versions"]


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def summary_table(summary: Any, title: str) -> Table:
    table = Table("metric", "mean", "pass rate", "n", title=title)
    for name, m in summary.metrics.items():
        table.add_row(name, _fmt(m.mean), _fmt(m.pass_rate), str(m.count))
    return table


def comparison_table(cmp: Any) -> Table:
    """Per-metric deltas with the confidence interval, p-value and the gate's verdict."""
    pct = round(cmp.confidence * 100)
    table = Table(
        "metric",
        "n",
        "baseline",
        "candidate",
        "delta",
        f"{pct}% CI",
        "p",
        "worse/better",
        "gate",
        title=f"{cmp.baseline}  →  {cmp.candidate}",
    )
    for m in cmp.metrics:
        verdict = "[red]REGRESSED[/]" if m.regression else "[green]ok[/]"
        table.add_row(
            m.metric,
            str(m.n),
            _fmt(m.baseline),
            _fmt(m.candidate),
            f"{m.delta:+.3f}",
            f"[{m.ci_low:+.3f}, {m.ci_high:+.3f}]",
            f"{m.p_value:.3f}",
            f"{m.regressed_cases}/{m.improved_cases}",
            verdict,
        )
    return table


def _load_suite_or_file(
    suite: str, model: str | None, prompt: str | None, version: str | None = None
) -> tuple[Any, Any, list[Any]]:
    """The dataset, target and evaluators of a shipped suite or a dataset file. `prompt` names the prompt to run
    and `version` its version or label (default: the working file, the version being edited)."""
    from aiagents.evals.datasets import Dataset
    from aiagents.evals.suites import SUITES, docs, get_suite
    from aiagents.tools.docs_agent import docs_agent

    docs.AGENT_FACTORY = docs_agent  # the suite runs the agent the service serves (evals does not import tools)
    if suite in SUITES:
        s = get_suite(suite)
        return s.dataset(), s.make_target(model, prompt or version), s.make_evaluators()
    path = Path(suite)
    if not path.exists():
        get_suite(suite)  # raises the "no such suite" error listing the shipped ones
    ds = Dataset.load(path)
    from aiagents.evals import build_evaluators
    from aiagents.evals.evaluators import ExactMatch, FieldsMatch, ToolCallsMatch
    from aiagents.evals.runner import task_target
    from aiagents.prompts import PromptRegistry
    from aiagents.tasks import Task

    declared = build_evaluators(ds.evaluators, source=str(path), near=path) if ds.evaluators else None
    target_spec = ds.target or {}
    if "agent" in target_spec:  # the served agent, with the dataset's tools and index
        if target_spec["agent"] not in ("docs", "docs-agent"):
            raise UserError(f"{path}: agent {target_spec['agent']!r}: the agent the framework serves is 'docs'")
        target = docs.agent_target(
            model=model, index_name=target_spec.get("index"), prompt_version=version, tools=target_spec.get("tools")
        )
        return ds, target, declared or [ToolCallsMatch()]  # its expected tool calls, in order
    # a prompt task: --prompt names it, else the file's `task:`, else the dataset's name
    name = prompt or target_spec.get("task") or ds.name
    registry = PromptRegistry()
    if name not in registry.names():
        known = ", ".join(registry.names())
        raise UserError(
            f"{path}: pass --prompt NAME or write `task: NAME` in the file (the prompt to run; {name!r} is not a "
            f"prompt; known: {known})"
        )
    task = Task(registry.resolve(name, version))
    ds.resolve_media(task.prompt.media_variables)  # image/file inputs: paths relative to the dataset file
    structured = task.output_type is not str
    return ds, task_target(task, model=model), declared or [FieldsMatch() if structured else ExactMatch()]


def _run(
    suite: str,
    model: str | None,
    prompt: str | None,
    version: str | None,
    tags: list[str],
    exclude_tags: list[str],
    concurrency: int,
    out_dir: Path | None,
    timeout: float,
    retries: int,
    fresh: bool,
    no_cache: bool,
    phoenix: bool,
    push: bool | None,
    judge: str | None,
    quiet: bool,
) -> Any:
    from aiagents.evals.runner import run_eval
    from aiagents.tracing import phoenix_url
    from aiagents.tracing import setup as setup_tracing

    ds, target, evaluators = _load_suite_or_file(suite, model, prompt, version)
    if tags or exclude_tags:
        from aiagents.evals.datasets import Dataset

        kept = [c for c in ds.cases if set(tags) <= set(c.tags) and not set(exclude_tags) & set(c.tags)]
        if not kept:
            raise UserError(f"no case of {ds.name!r} has tags {list(tags)} without {list(exclude_tags)}")
        ds = Dataset(name=ds.name, cases=kept, base_dir=ds.base_dir, media=ds.media, target=ds.target)
    if judge:
        from aiagents.evals.judge import JudgeEvaluator

        evaluators.append(JudgeEvaluator(rubric=judge, model=model))
    url = None
    if push is None:  # by default the loop shows in the trace UI whenever there is one
        from aiagents.tracing.phoenix_server import phoenix_is_up

        push = get_settings().tracing and phoenix_is_up(phoenix_url())
    if phoenix or push:
        setup_tracing()
        url = phoenix_url()
    run = asyncio.run(
        run_eval(
            ds,
            target,
            evaluators,
            out_dir=out_dir,
            concurrency=concurrency,
            timeout=timeout,
            retries=retries,
            resume=not fresh,
            cache=not no_cache,
            progress=not quiet,
            phoenix_url=url,
        )
    )
    if push and url:
        from aiagents.evals.phoenix import push_experiment

        run.annotations["experiment"] = push_experiment(  # type: ignore[assignment]
            ds, run.results, url, name=run.summary.meta["experiment"], metadata=run.summary.meta
        )
        run.annotations["prompts"] = [  # type: ignore[assignment]
            m for name, version in run.summary.meta.get("prompt_versions", {}).items()
            for m in mirror_to_phoenix(name, [version], url=url)
        ]  # fmt: skip
    return run


def step_eval_prompt_versions(ctx: Any) -> None:
    """Evals: the listing-attributes suite with the current prompt and its variant, then the comparison."""
    from aiagents.evals.compare import compare_runs
    from aiagents.evals.runner import run_eval
    from aiagents.evals.suites import get_suite

    console.print(Rule("Evals: listing-attributes, prompt v1 vs listing-attributes-v2"))
    suite = get_suite("listing-attributes")
    ds = suite.dataset()
    runs = []
    for prompt in (None, "listing-attributes-v2"):
        run = asyncio.run(
            run_eval(
                ds,
                suite.make_target(ctx.model, prompt),
                suite.make_evaluators(),
                concurrency=8,
                progress=False,
                resume=False,
                phoenix_url=ctx.phoenix,
            )
        )
        runs.append(run)
        if run.results and run.results[0].trace_id:
            ctx.trace_ids.extend(r.trace_id for r in run.results if r.trace_id)
    from aiagents.evals.phoenix import push_experiment

    pushed = 0
    for run in runs:  # datasets, experiments side by side, and prompt versions in Phoenix's UI
        try:
            push_experiment(
                ds, run.results, ctx.phoenix, name=run.summary.meta["experiment"], metadata=run.summary.meta
            )
            pushed += 1
        except Exception as exc:  # noqa: BLE001 - the demo goes on without the copy in Phoenix
            console.print(f"[yellow]experiment not recorded in Phoenix: {exc}[/]")
        for name, version in run.summary.meta.get("prompt_versions", {}).items():
            mirror_to_phoenix(name, [version], url=ctx.phoenix)
    cmp = compare_runs(runs[0].out_dir, runs[1].out_dir, metrics=None)
    out.print(comparison_table(cmp))
    out.print(f"Phoenix: dataset {ds.name}@{ds.version}, {pushed} experiments and the prompt versions recorded")
    ctx.notes["eval_compare"] = cmp.to_json()
    out.print(f"Results: {runs[0].out_dir} and {runs[1].out_dir}")


def register(eval_app: typer.Typer) -> None:
    """Add `run`, `compare` and `push-dataset` to the `eval` group, and the eval step to the demo."""

    @eval_app.command("run")
    def run_cmd(
        suite: str = typer.Argument(
            ..., help="A shipped suite (listing-attributes, docs-rag, docs-agent) or a dataset file."
        ),
        model: str | None = typer.Option(None, "--model", "-m", help="Model to evaluate (default: configured)."),
        prompt: str | None = typer.Option(
            None, "--prompt", help="The prompt to run (a dataset file: default its name; a suite: a variant prompt)."
        ),
        version: str | None = typer.Option(
            None, "--prompt-version", help="Its version (prefix) or label, e.g. production (default: the file)."
        ),
        tags: list[str] = typer.Option([], "--tags", help="Only cases with this tag (repeatable: all of them)."),
        exclude_tags: list[str] = typer.Option([], "--exclude-tags", help="Leave out cases with this tag."),
        concurrency: int = typer.Option(8, "--concurrency", "-c", min=1, help="Cases in flight at once."),
        out_dir: Path | None = typer.Option(None, "--out", help="Results folder (default: one per experiment)."),
        timeout: float = typer.Option(60.0, "--timeout", help="Seconds per attempt of a case."),
        retries: int = typer.Option(2, "--retries", min=0, help="Extra attempts after an error or timeout."),
        fresh: bool = typer.Option(False, "--fresh", help="Start over instead of resuming the folder's run."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Call the model even for cached inputs."),
        phoenix: bool = typer.Option(False, "--phoenix", help="Trace to Phoenix and annotate the case spans."),
        push: bool | None = typer.Option(
            None,
            "--push/--no-push",
            help="Record the dataset and the run as a Phoenix experiment, and the prompt "
            "versions in its prompt registry (default: when Phoenix answers).",
        ),  # fmt: skip
        judge: str | None = typer.Option(None, "--judge", help="Add an LLM judge with this rubric prompt."),
        output_mode: str | None = typer.Option(
            None,
            "--output-mode",
            help="tool, native or prompted: how structured output is asked for where the prompt does not say "
            "(default: per model).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    ) -> None:
        """Run an eval suite (e.g. the model-upgrade case: same suite with --model NEW, then `eval compare`)."""
        if output_mode is not None:
            try:
                check_output_mode(output_mode, name="--output-mode")
            except UserError as exc:
                fail(str(exc), 2)
            os.environ["AIAGENTS_OUTPUT_MODE"] = output_mode
            reset_settings()
        model_name = note_model(model)
        run = run_guarded(
            _run,
            suite,
            model_name,
            prompt,
            version,
            tags,
            exclude_tags,
            concurrency,
            out_dir,
            timeout,
            retries,
            fresh,
            no_cache,
            phoenix,
            push,
            judge,
            as_json,
        )
        data = {
            **run.summary.to_json(),
            "out_dir": str(run.out_dir),
            "resumed": run.resumed,
            "model_calls": run.model_calls,
            "annotations": run.annotations,
        }
        if as_json:
            print_json(data)
            return
        out.print(
            summary_table(
                run.summary, f"{run.summary.meta['experiment']}  (dataset {run.summary.meta['dataset_version']})"
            )
        )
        s = run.summary
        out.print(
            f"{s.completed}/{s.cases} completed, {s.errors} errors, {s.cached} cached, {run.resumed} resumed; "
            f"latency p50 {s.latency_ms['p50']:.0f} ms p95 {s.latency_ms['p95']:.0f} ms. Results: {run.out_dir}"
        )
        for e in s.error_examples:
            console.print(f"[red]{e['case']}[/]: {e['error']}")

    runs_app = typer.Typer(help="Kept eval runs.", no_args_is_help=True)
    eval_app.add_typer(runs_app, name="runs")

    @runs_app.command("list")
    def runs_list_cmd(
        suite: str | None = typer.Option(None, "--suite", help="Only the runs of this dataset (suite) name."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Kept eval runs, newest first: id, dataset, model, prompt versions, cases, metrics."""
        from aiagents.evals.runner import list_runs

        runs = run_guarded(list_runs, dataset=suite)
        if as_json:
            print_json({"runs": [r.to_json() for r in runs]})
            return
        table = Table("id", "started", "dataset", "model", "prompt versions", "cases", "errors", "metrics")
        for r in runs:
            versions = ", ".join(f"{k}@{v}" for k, v in r.prompt_versions.items())
            shown = ", ".join(f"{k} {v:.3f}" for k, v in list(r.metrics.items())[:3] if isinstance(v, int | float))
            table.add_row(r.id, r.started_at[:16], r.dataset, r.model or "", versions, str(r.cases), str(r.errors),
                          shown if r.finished else "(not finished)")  # fmt: skip
        out.print(table)
        if runs:
            console.print("Compare two: `aiagents eval compare ID1 ID2` (or DATASET@VERSION selectors).")

    @eval_app.command("compare")
    def compare_cmd(
        baseline: str = typer.Argument(..., help="Baseline run: an id (prefix), a folder, or DATASET@VERSION."),
        candidate: str = typer.Argument(..., help="Candidate run: an id (prefix), a folder, or DATASET@VERSION."),
        fail_on_regression: bool = typer.Option(
            False, "--fail-on-regression", help="Exit 1 when a metric drops beyond its tolerance (for CI)."
        ),
        tolerance: list[str] | None = typer.Option(
            None, "--tolerance", "-t", help="Allowed drop: METRIC=0.02, or *=0.01 / a number for every metric."
        ),
        metric: list[str] | None = typer.Option(None, "--metric", help="Compare only these metrics."),
        confidence: float = typer.Option(0.95, "--confidence", help="Confidence level of the bootstrap CI."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and permutation test."),
        show: int = typer.Option(10, "--show", help="Regressed/improved cases to list."),
        as_json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON object."),
    ) -> None:
        """Per-metric deltas with confidence intervals, the cases that regressed and improved; the CI gate."""
        from aiagents.evals.compare import compare_runs, parse_tolerances
        from aiagents.evals.runner import resolve_run

        tols, default = run_guarded(parse_tolerances, tolerance)
        cmp = run_guarded(
            compare_runs,
            run_guarded(resolve_run, baseline),
            run_guarded(resolve_run, candidate),
            tolerances=tols,
            default_tolerance=default,
            metrics=metric or None,
            confidence=confidence,
            seed=seed,
        )
        if as_json:
            print_json(cmp.to_json())
        else:
            out.print(comparison_table(cmp))
            for title, changes in (("Regressed", cmp.regressed), ("Improved", cmp.improved)):
                if changes:
                    t = Table("case", "metric", "baseline", "candidate", title=f"{title} ({len(changes)})")
                    for c in changes[:show]:
                        t.add_row(c.case, c.metric, _fmt(c.baseline), _fmt(c.candidate))
                    out.print(t)
            if cmp.only_in_baseline or cmp.only_in_candidate:
                console.print(
                    f"unpaired cases: {len(cmp.only_in_baseline)} only in baseline, "
                    f"{len(cmp.only_in_candidate)} only in candidate"
                )
        if cmp.regressions:
            console.print(f"[red]Regressed beyond tolerance:[/] {', '.join(m.metric for m in cmp.regressions)}")
            if fail_on_regression:
                raise typer.Exit(1)

    @eval_app.command("push-dataset")
    def push_dataset_cmd(
        suite: str = typer.Argument(..., help="A shipped suite or a dataset file."),
        url: str | None = typer.Option(None, "--phoenix-url", help="Phoenix base URL (default: configured)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    ) -> None:
        """Create the dataset in Phoenix as `<name>@<version>` (reused when it exists)."""
        from aiagents.evals.datasets import Dataset
        from aiagents.evals.phoenix import push_dataset
        from aiagents.evals.suites import SUITES, get_suite
        from aiagents.tracing import phoenix_url

        ds = get_suite(suite).dataset() if suite in SUITES else run_guarded(Dataset.load, suite)
        target = url or phoenix_url()
        pushed = run_guarded(push_dataset, ds, target)
        data = {
            "dataset": pushed.name,
            "id": pushed.id,
            "version_id": pushed.version_id,
            "examples": len(pushed.examples),
            "phoenix": target,
        }
        if as_json:
            print_json(data)
        else:
            out.print(f"Pushed {data['examples']} examples as dataset {data['dataset']!r} to {target}.")

    try:
        from aiagents.cli.demo_cmd import DEMO_STEPS
    except ImportError:  # pragma: no cover - demo module absent
        return
    if step_eval_prompt_versions not in DEMO_STEPS:
        DEMO_STEPS.append(step_eval_prompt_versions)
