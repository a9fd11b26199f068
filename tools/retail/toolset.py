"""The retail tools as a toolset (`make_toolset`: schemas from `RetailTools`' signatures and docstrings)."""

from __future__ import annotations

from typing import Any

from aiagents.tools.base import make_toolset
from aiagents.tools.environment.database import Database
from aiagents.tools.retail.tools import RetailTools
from pydantic_ai import FunctionToolset

__all__ = ["retail_toolset"]


def retail_toolset(db_or_tools: Database | RetailTools, *, max_retries: int = 2) -> FunctionToolset[Any]:
    """A toolset of the 16 retail tools over one working database (build one per run).

    Tool calls run one at a time (``sequential=True``): the tools read-modify-write shared records, and
    parallel calls from one model response would otherwise race. Arguments that do not fit a tool's
    schema (a missing field, a reason outside the enum) go back to the model as a retry prompt; requests
    the shop refuses come back as an ``"Error: ..."`` result.
    """
    tools = db_or_tools if isinstance(db_or_tools, RetailTools) else RetailTools(db_or_tools)
    return make_toolset(tools.functions(), id="retail", max_retries=max_retries, sequential=True)
