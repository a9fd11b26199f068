"""A/B rollout: experiments (variants and shares per endpoint), sticky assignment, guardrails, the report.

from aiagents.rollout import ExperimentStore, parse_variant, report
ExperimentStore().create("exp1", "tasks/listing-attributes", [parse_variant("control:share=90"),
                         parse_variant("candidate:prompt=listing-attributes-v2,share=10")])
"""

from aiagents.rollout.assign import BUCKETS, assign, bucket
from aiagents.rollout.config import (
    Experiment,
    ExperimentConfigError,
    ExperimentStore,
    Guardrails,
    UnknownExperimentError,
    Variant,
    experiments_dir,
    parse_variant,
)
from aiagents.rollout.events import list_events, record_event
from aiagents.rollout.report import decide, report, variant_rows
from aiagents.rollout.router import Assignment, ExperimentRouter, GuardrailWatcher, VariantCounters, guardrail_breach
from aiagents.rollout.stats import (
    Interval,
    ZTest,
    bootstrap,
    percentile,
    sample_size_two_proportions,
    two_proportion_z,
    wilson,
)

__all__ = [
    # config
    "Experiment",
    "Variant",
    "Guardrails",
    "ExperimentStore",
    "parse_variant",
    "experiments_dir",
    # assignment and guardrails
    "assign",
    "bucket",
    "BUCKETS",
    "Assignment",
    "ExperimentRouter",
    "GuardrailWatcher",
    "VariantCounters",
    "guardrail_breach",
    # events and report
    "record_event",
    "list_events",
    "report",
    "decide",
    "variant_rows",
    # statistics
    "Interval",
    "ZTest",
    "wilson",
    "bootstrap",
    "percentile",
    "two_proportion_z",
    "sample_size_two_proportions",
    # errors
    "ExperimentConfigError",
    "UnknownExperimentError",
]
