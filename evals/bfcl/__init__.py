"""BFCL v4 (Berkeley Function Calling Leaderboard): load, check with the published AST semantics,
perturb the gold, run a model."""

from aiagents.evals.bfcl.checker import CheckResult, bfcl_call_diffs, category_mode, check_case, standardize
from aiagents.evals.bfcl.data import CATEGORIES, BfclCase, BfclDataError, available_categories, load_category
from aiagents.evals.bfcl.perturb import PERTURBATION_KINDS, Perturbation, gold_calls, perturbations
from aiagents.evals.bfcl.run import (
    CaseOutcome,
    CategoryScore,
    bfcl_tool_definitions,
    load_cases,
    score_gold,
    score_model,
    score_perturbations,
)

__all__ = [
    # data
    "CATEGORIES",
    "BfclCase",
    "BfclDataError",
    "available_categories",
    "load_category",
    # checking
    "CheckResult",
    "bfcl_call_diffs",
    "category_mode",
    "check_case",
    "standardize",
    # gold and perturbations
    "PERTURBATION_KINDS",
    "Perturbation",
    "gold_calls",
    "perturbations",
    # scoring
    "CaseOutcome",
    "CategoryScore",
    "bfcl_tool_definitions",
    "load_cases",
    "score_gold",
    "score_model",
    "score_perturbations",
]
