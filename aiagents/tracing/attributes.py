"""OpenInference attribute names, aliased once for the framework's own spans (and the one GenAI name it reads)."""

from __future__ import annotations

from openinference.semconv.trace import (
    MessageAttributes,
    OpenInferenceSpanKindValues,
    SpanAttributes,
)

__all__ = [
    "CHAIN",
    "LLM",
    "AGENT",
    "TOOL",
    "RETRIEVER",
    "EMBEDDING",
    "SPAN_KIND",
    "INPUT_VALUE",
    "INPUT_MIME_TYPE",
    "OUTPUT_VALUE",
    "OUTPUT_MIME_TYPE",
    "METADATA",
    "SESSION_ID",
    "USER_ID",
    "TAG_TAGS",
    "LLM_MODEL_NAME",
    "LLM_PROVIDER",
    "LLM_SYSTEM",
    "LLM_INVOCATION_PARAMETERS",
    "LLM_TOKEN_COUNT_PROMPT",
    "LLM_TOKEN_COUNT_COMPLETION",
    "LLM_TOKEN_COUNT_TOTAL",
    "LLM_COST_TOTAL",
    "PROMPT_TEMPLATE",
    "PROMPT_TEMPLATE_VERSION",
    "PROMPT_TEMPLATE_VARIABLES",
    "PROMPT_ID",
    "MESSAGE_ROLE",
    "MESSAGE_CONTENT",
    "GEN_AI_OPERATION",
]

CHAIN = OpenInferenceSpanKindValues.CHAIN.value
LLM = OpenInferenceSpanKindValues.LLM.value
AGENT = OpenInferenceSpanKindValues.AGENT.value
TOOL = OpenInferenceSpanKindValues.TOOL.value
RETRIEVER = OpenInferenceSpanKindValues.RETRIEVER.value
EMBEDDING = OpenInferenceSpanKindValues.EMBEDDING.value

SPAN_KIND = SpanAttributes.OPENINFERENCE_SPAN_KIND
INPUT_VALUE = SpanAttributes.INPUT_VALUE
INPUT_MIME_TYPE = SpanAttributes.INPUT_MIME_TYPE
OUTPUT_VALUE = SpanAttributes.OUTPUT_VALUE
OUTPUT_MIME_TYPE = SpanAttributes.OUTPUT_MIME_TYPE
METADATA = SpanAttributes.METADATA
SESSION_ID = SpanAttributes.SESSION_ID
USER_ID = SpanAttributes.USER_ID
TAG_TAGS = SpanAttributes.TAG_TAGS
LLM_MODEL_NAME = SpanAttributes.LLM_MODEL_NAME
LLM_PROVIDER = SpanAttributes.LLM_PROVIDER
LLM_SYSTEM = SpanAttributes.LLM_SYSTEM
LLM_INVOCATION_PARAMETERS = SpanAttributes.LLM_INVOCATION_PARAMETERS
LLM_TOKEN_COUNT_PROMPT = SpanAttributes.LLM_TOKEN_COUNT_PROMPT
LLM_TOKEN_COUNT_COMPLETION = SpanAttributes.LLM_TOKEN_COUNT_COMPLETION
LLM_TOKEN_COUNT_TOTAL = SpanAttributes.LLM_TOKEN_COUNT_TOTAL
LLM_COST_TOTAL = SpanAttributes.LLM_COST_TOTAL
PROMPT_TEMPLATE = SpanAttributes.LLM_PROMPT_TEMPLATE
PROMPT_TEMPLATE_VERSION = SpanAttributes.LLM_PROMPT_TEMPLATE_VERSION
PROMPT_TEMPLATE_VARIABLES = SpanAttributes.LLM_PROMPT_TEMPLATE_VARIABLES
PROMPT_ID = SpanAttributes.PROMPT_ID
MESSAGE_ROLE = MessageAttributes.MESSAGE_ROLE
MESSAGE_CONTENT = MessageAttributes.MESSAGE_CONTENT

GEN_AI_OPERATION = "gen_ai.operation.name"
"""OpenTelemetry's GenAI semantic convention: pydantic-ai sets it on each of its spans ('invoke_agent', 'chat',
'execute_tool'); OpenInference spans do not carry it."""
