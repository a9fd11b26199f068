"""Who may do what: API keys compared in constant time, key fingerprints, signed request ids."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

__all__ = ["Principal", "KeyRing", "RequestIds", "key_fingerprint", "LOCAL_FINGERPRINT"]

LOCAL_FINGERPRINT = "local"
"""The fingerprint of every caller when no keys are configured (the service then listens on 127.0.0.1 only)."""


def key_fingerprint(key: str) -> str:
    """What the log stores instead of a key: a truncated SHA-256 of it (enough to tell keys apart)."""
    return "k_" + hashlib.sha256(b"aiagents-api-key\0" + key.encode()).hexdigest()[:24]


@dataclass(kw_only=True, frozen=True)
class Principal:
    """The authenticated caller."""

    fingerprint: str
    """Stored with each request; the caller sees and gives feedback on only its own requests."""
    admin: bool
    """May read the request log and stats."""


class KeyRing:
    """The configured client and admin keys. With none, every caller is the local admin."""

    def __init__(self, client_keys: list[str], admin_keys: list[str]) -> None:
        self._keys = [(k.encode(), key_fingerprint(k), False) for k in client_keys]
        self._keys += [(k.encode(), key_fingerprint(k), True) for k in admin_keys]

    @property
    def open(self) -> bool:
        return not self._keys

    @property
    def admin_fingerprints(self) -> frozenset[str]:
        """Fingerprints of the configured admin keys (a dashboard session must belong to one)."""
        return frozenset(fingerprint for _, fingerprint, admin in self._keys if admin)

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal for an `Authorization: Bearer KEY` header; None when missing or wrong."""
        if self.open:
            return Principal(fingerprint=LOCAL_FINGERPRINT, admin=True)
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        candidate = token.strip().encode()
        found: Principal | None = None
        for key, fingerprint, admin in self._keys:  # compare with every key: no early exit
            if hmac.compare_digest(candidate, key) and found is None:
                found = Principal(fingerprint=fingerprint, admin=admin)
        return found


class RequestIds:
    """Request ids that carry an HMAC of (id, key fingerprint).

    Feedback names a request by id; the signature proves, without a database read, that this service
    issued the id to the same key. So feedback is accepted even while the request row is still in the
    writer's queue (or another worker's), and another key's request id is answered 404, like an unknown one.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, raw: str, fingerprint: str) -> str:
        return hmac.new(self._secret, f"{raw}|{fingerprint}".encode(), hashlib.sha256).hexdigest()[:16]

    def new(self, fingerprint: str) -> str:
        raw = uuid.uuid4().hex
        return f"{raw}{self._tag(raw, fingerprint)}"

    def verify(self, request_id: str, fingerprint: str) -> bool:
        if len(request_id) != 48:
            return False
        raw, tag = request_id[:32], request_id[32:]
        return hmac.compare_digest(tag, self._tag(raw, fingerprint))
