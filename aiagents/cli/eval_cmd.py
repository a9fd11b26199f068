"""`aiagents eval`: the group that evaluation commands join (`eval retrieval`, `eval bfcl`, ...)."""

from __future__ import annotations

import typer

__all__ = ["eval_app", "register"]

eval_app = typer.Typer(
    name="eval",
    help="Evaluate retrieval, tool calling and agents on reference data sets.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `eval` group (with every evaluation command) to the root app."""
    from aiagents.cli import retrieval_cmd

    retrieval_cmd.register_eval(eval_app)
    try:  # the BFCL command lives in its own module, owned by the evals work
        from aiagents.cli import eval_bfcl_cmd
    except ImportError:
        pass
    else:
        eval_bfcl_cmd.register(eval_app)
    from aiagents.cli import eval_run_cmd  # eval run / compare / push-dataset

    eval_run_cmd.register(eval_app)
    from aiagents.cli import eval_traces_cmd  # eval traces (improvement loop)

    eval_traces_cmd.register(eval_app)
    app.add_typer(eval_app, name="eval")
