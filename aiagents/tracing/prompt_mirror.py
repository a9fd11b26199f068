"""`mirror_prompt`: a prompt's versions and labels shown in Phoenix's prompt registry (a label is a tag there).

So a person in Phoenix sees each prompt's versions beside the traces that name them (`llm.prompt_template.version`
on every LLM span). The framework's registry stays the truth; this is a copy, sent when a label moves and when an
eval runs. Over Phoenix's REST API (`POST /v1/prompts`, `POST /v1/prompt_versions/{id}/tags`): importing
`phoenix.client` loads the whole Phoenix server package (see `span_annotations.py`). A Phoenix that is down or
refuses the copy is reported, never raised: the loop does not depend on the mirror.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx

__all__ = ["VERSION_MARK", "MirroredPrompt", "mirror_prompt"]

log = logging.getLogger(__name__)
VERSION_MARK = "aiagents version "
"""Prefix of the Phoenix version's description: how a version already mirrored is found again."""
_PROVIDERS = {"openai": "OPENAI", "anthropic": "ANTHROPIC", "openai-compatible": "OPENAI", "openai-responses": "OPENAI"}


class MirroredPrompt(Protocol):
    """What is copied of an `aiagents.prompts.Prompt` (tracing sits below the prompts: it does not import them)."""

    name: str
    version: str
    description: str | None
    system: str
    template: str


def _version_body(prompt: MirroredPrompt, model: str | None) -> dict[str, Any]:
    provider, _, model_name = (model or "").partition(":")
    provider_key = _PROVIDERS.get(provider, "OPENAI")
    messages = [
        *([{"role": "system", "content": prompt.system}] if prompt.system else []),
        {"role": "user", "content": prompt.template},
    ]
    kind = "anthropic" if provider_key == "ANTHROPIC" else "openai"
    parameters: dict[str, Any] = {"max_tokens": 1024} if kind == "anthropic" else {}
    return {
        "model_provider": provider_key,
        "model_name": model_name.split("@")[0] or "gpt-4.1-mini",
        "template": {"type": "chat", "messages": messages},
        "template_type": "CHAT",
        "template_format": "MUSTACHE",  # our templates are Jinja: {{ name }} reads the same in Phoenix
        "invocation_parameters": {"type": kind, kind: parameters},
        "description": f"{VERSION_MARK}{prompt.version}",
    }


def mirror_prompt(
    prompt: MirroredPrompt,
    labels: list[str],
    url: str,
    *,
    model: str | None = None,
    api_key: str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any] | None:
    """Make `prompt`'s version exist in Phoenix (once) and carry `labels` as tags; returns
    `{"prompt_version_id", "created", "tags"}`, or None when Phoenix is down or refused it (logged)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers) as http:
            version_id = _find(http, prompt)
            created = version_id is None
            if version_id is None:
                body = {
                    "prompt": {
                        "name": prompt.name,
                        **({"description": prompt.description} if prompt.description else {}),
                    },
                    "version": _version_body(prompt, model),
                }
                response = http.post("/v1/prompts", json=body)
                response.raise_for_status()
                version_id = response.json()["data"]["id"]
            for label in labels:
                http.post(f"/v1/prompt_versions/{version_id}/tags", json={"name": label}).raise_for_status()
            return {"prompt_version_id": version_id, "created": created, "tags": labels}
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.info("prompt %s@%s not mirrored to Phoenix at %s: %s", prompt.name, prompt.version, url, exc)
        return None


def _find(http: httpx.Client, prompt: MirroredPrompt) -> str | None:
    """The id of the Phoenix version already holding this version, if any."""
    response = http.get(f"/v1/prompts/{prompt.name}/versions", params={"limit": 1000})
    if response.status_code == 404:
        return None
    response.raise_for_status()
    for version in response.json().get("data", []):
        if version.get("description") == f"{VERSION_MARK}{prompt.version}":
            return str(version["id"])
    return None
