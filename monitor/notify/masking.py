"""Secrets out of anything shown: what a service answered, an exception's text, a URL.

Apprise's own messages rarely carry a token, but an HTTP library's exception may quote the URL it was given. Every
text that reaches a log line, `monitor status`, `monitor notify list` or the outbox's last_error goes through
mask() with the destination's secrets (the `${NAME}` values and a password written in the URL)."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

MASK = "****"


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and its percent-encoded form) replaced by ****, longest first."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, MASK)
    return text


__all__ = ["MASK", "mask"]
