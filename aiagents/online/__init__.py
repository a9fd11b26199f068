"""Online evals: score a sample of live requests in the background; re-score stored traffic later.

from aiagents.online import OnlineEvalWorker, load_suite
worker = OnlineEvalWorker(store, load_suite("default"), sample_rate=0.2).start()
worker.submit(request_record)   # after the answer went out; scores land in the `scores` table
"""

from aiagents.online.evaluators import (
    SUITES,
    GroundedNumbers,
    OnlineSuiteError,
    RetrievalRelevance,
    SchemaValid,
    context_for,
    evaluate_all,
    load_suite,
)
from aiagents.online.rescore import RescoreResult, rescore, rows_from_phoenix, rows_from_store
from aiagents.online.scores import (
    list_scores,
    pending_score_annotations,
    score_annotation,
    send_score_annotations,
    write_many_scores,
    write_scores,
)
from aiagents.online.worker import OnlineEvalWorker, sampled

__all__ = [
    # evaluators and suites
    "SchemaValid",
    "GroundedNumbers",
    "RetrievalRelevance",
    "SUITES",
    "load_suite",
    "context_for",
    "evaluate_all",
    # background scoring
    "OnlineEvalWorker",
    "sampled",
    # scores
    "write_scores",
    "write_many_scores",
    "list_scores",
    "pending_score_annotations",
    "send_score_annotations",
    "score_annotation",
    # re-scoring
    "rescore",
    "RescoreResult",
    "rows_from_phoenix",
    "rows_from_store",
    # errors
    "OnlineSuiteError",
]
