"""The HTTP service: prompt tasks, RAG and agents behind API keys, every request logged, user feedback.

aiagents serve --port 8000         # or: uvicorn --factory aiagents.service.app:create_app
"""

from aiagents.service.app import DEFAULT_VARIANT, create_app
from aiagents.service.auth import KeyRing, Principal, RequestIds, key_fingerprint
from aiagents.service.config import LOCAL_HOSTS, ServiceSettings
from aiagents.service.errors import ServiceError
from aiagents.service.models import (
    AgentRequest,
    AskRequest,
    ErrorBody,
    FeedbackAccepted,
    FeedbackRequest,
    ServiceAnswer,
    TaskRequest,
)

__all__ = [
    # app
    "create_app",
    "ServiceSettings",
    "LOCAL_HOSTS",
    "DEFAULT_VARIANT",
    # auth
    "KeyRing",
    "Principal",
    "RequestIds",
    "key_fingerprint",
    # API bodies
    "TaskRequest",
    "AskRequest",
    "AgentRequest",
    "FeedbackRequest",
    "ServiceAnswer",
    "FeedbackAccepted",
    "ErrorBody",
    # errors
    "ServiceError",
]
