"""Apprise: the one place that talks to a notification service (100+ of them: Telegram, email, ntfy, webhooks).

Why Apprise and no client of our own: it is well kept, reads one URL per destination (what users of Miniflux and
changedetection.io already write), knows each service's limits (`body_maxlen`, the formats it renders) and its
failure answers. It is imported here, lazily, so `monitor status` and the read commands never load it.

What the service answered comes from the call's own log (Apprise 2's result of notify(), per call, so threads
sending to different services never read each other's; the process-wide LogCapture of Apprise 1 was not), masked:
it is what `monitor notify test` prints and what the outbox keeps as last_error. Apprise's logger is set to INFO
(so the result holds "Sent ...") and kept out of our log, where the sender writes its own masked line.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from monitor.models import NotifySpec
from monitor.notify.masking import mask

READ_TIMEOUT = 10.0  # seconds a service may take to answer (Apprise's rto): a hanging one is a failed try
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str  # what the service (or Apprise) said, masked, one line


@dataclass(frozen=True)
class Service:
    """A destination's service as Apprise loaded it: whether it renders HTML and how long a message may be."""

    spec: NotifySpec
    plugin: Any  # Apprise's plugin object; None when no service reads the URL
    html: bool
    max_body: int
    max_title: int

    @property
    def usable(self) -> bool:
        return self.plugin is not None

    def send(self, title: str, body: str) -> Answer:
        import apprise

        if self.plugin is None:
            return Answer(False, "Apprise cannot read this URL (an unknown service, or a part missing)")
        box = apprise.Apprise()
        box.add(self.plugin)
        fmt = apprise.NotifyFormat.HTML if self.html else apprise.NotifyFormat.TEXT
        if self.html and self.max_title <= 0:  # Apprise puts the title, as it is, in the HTML body (Telegram)
            title = html.escape(title, quote=False)
        try:
            # The call's own log (Apprise 2's result): what this service answered, whatever other threads send.
            result = box.notify(body=body, title=title, body_format=fmt, log_level=logging.INFO)
        except Exception as exc:  # a plugin's own bug: a failed try, never a dead sender
            return Answer(False, mask(f"{type(exc).__name__}: {exc}", self.spec.secrets))
        lines = [entry.message for entry in result.logs()]
        return Answer(bool(result), mask(_summary(lines, bool(result)), self.spec.secrets))


def _summary(lines: list[str], ok: bool) -> str:
    """The lines of Apprise's log that say how the service answered, joined on one line."""
    lines = [line.strip() for line in lines if line.strip() and not line.startswith("Notifying ")]
    text = "; ".join(lines) or ("sent" if ok else "failed (no answer recorded)")
    return " ".join(text.split())[:500]


def load(spec: NotifySpec) -> Service:
    """The destination's service, with its URL read by Apprise (timeouts added when the URL sets none)."""
    import apprise

    apprise_log = logging.getLogger("apprise")  # Apprise logs under its package name
    apprise_log.setLevel(logging.INFO)
    apprise_log.propagate = False  # its raw lines may quote a URL: only the sender's masked line is logged

    url = spec.url
    extra = [f"{k}={v}" for k, v in (("rto", READ_TIMEOUT), ("cto", CONNECT_TIMEOUT)) if f"{k}=" not in url]
    if extra:
        url += ("&" if "?" in url else "?") + "&".join(extra)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return Service(spec, None, False, 4096, 0)
    formats = plugin.notify_format if isinstance(plugin.notify_format, (tuple, list)) else (plugin.notify_format,)
    html = apprise.NotifyFormat(formats[0]) == apprise.NotifyFormat.HTML
    return Service(spec, plugin, html, int(plugin.body_maxlen or 32768), int(plugin.title_maxlen or 0))


def shown_url(spec: NotifySpec) -> str:
    """The URL as Apprise shows it with privacy on (tokens and passwords masked), our secrets masked too."""
    import apprise

    plugin = apprise.Apprise.instantiate(spec.url)
    return mask(plugin.url(privacy=True), spec.secrets) if plugin is not None else spec.shown


__all__ = ["Answer", "Service", "load", "shown_url", "CONNECT_TIMEOUT", "READ_TIMEOUT"]
