"""The monitor's error tree, so callers can catch broadly or narrowly.

    MonitorError                 anything the monitor raises on purpose
    ├── ConfigError              config.yaml is unreadable or invalid (exit code 2); names file, line and key
    ├── UsageError               a bad command-line value (--since, an unknown feed or watch name; exit code 2)
    │   └── FeedListError        an OPML file, a site address or a catalogue name `monitor feeds` cannot use
    ├── FetchError               one feed could not be fetched; recorded on that feed, the cycle goes on
    │   ├── HTTPStatusError      the server answered 4xx/5xx (carries status and Retry-After)
    │   ├── BodyTooLargeError    the body, after decompression, passed http.max_bytes
    │   └── HostBusyError        deferred: the host's turn (http.per_host, http.host_delay) came too late
    ├── ParseError               the bytes are not a feed; recorded on that feed
    └── StoreError               the database cannot be opened or written (exit code 1)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """config.yaml is invalid. The message names the file, the line and the key."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.path, self.line, self.key = path, line, key
        where = path or "<config>"
        if line is not None:
            where += f":{line}"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {message}")


class UsageError(MonitorError):
    """A command-line value the monitor cannot use."""


class FeedListError(UsageError):
    """Bad input to the feed-list commands (`monitor feeds import|add|remove`): the message is one line per
    problem, each naming the file and line or the address; nothing was written."""


class FetchError(MonitorError):
    """A feed could not be fetched."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        self.status, self.retry_after = status, retry_after
        super().__init__(message)

    def __reduce__(self):  # keyword arguments survive pickling (a worker process sends it to the store)
        return _http_status_error, (str(self), self.status, self.retry_after)


def _http_status_error(message: str, status: int, retry_after: float | None) -> HTTPStatusError:
    return HTTPStatusError(message, status=status, retry_after=retry_after)


class BodyTooLargeError(FetchError):
    """The response body passed the configured cap (checked after decompression)."""


class HostBusyError(FetchError):
    """The feed was not fetched: its host's turn would have come after the job's deadline (monitor.turns). The
    writer records it on the feed without counting a failure or backing the feed off."""


class ParseError(MonitorError):
    """The fetched bytes are not a feed feedparser can read."""


class StoreError(MonitorError):
    """The database cannot be opened or written."""
