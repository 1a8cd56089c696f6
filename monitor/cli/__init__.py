"""The command line: the only code that prints and picks exit codes. One module per group of commands.

Exit codes: 0 done (a poll whose feeds failed still ran: failures are recorded on each feed); 1 a fatal error
(the database cannot be opened or written); 2 bad input (config.yaml invalid, a bad option value).

Heavy imports (hazm, feedparser, httpx) happen inside the commands that poll, so `items`, `report` and `feeds`
start fast.
"""

from __future__ import annotations

import errno
import functools
import importlib
import importlib.util
import logging
import os
import signal
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import click

from monitor.errors import ConfigError, MonitorError, StoreError, UsageError

DEFAULT_CONFIG = "config.yaml"
FORMATS = ("table", "json", "csv")
SQLITE_MAX_INT = 2**63 - 1  # a larger integer option could never reach the database: a usage error, not a crash
# What a failed write to stdout raises: a full disk or device, a closed pipe, a vanished terminal.
OUTPUT_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EBADF}


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP while a file is written: raised like Ctrl-C so every cleanup (the temporary file) runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# ------------------------------------------------------------------------------------------ shared options
def config_option(func: Callable) -> Callable:
    return click.option("--config", "-c", "config_path", default=lambda: os.environ.get("MONITOR_CONFIG",
                        DEFAULT_CONFIG), show_default="config.yaml, or $MONITOR_CONFIG",
                        type=click.Path(dir_okay=False), help="The config file.")(func)


def handle_errors(func: Callable) -> Callable:
    """Turn the monitor's errors into a one-line message and the documented exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            check_int_options(kwargs)
            result = func(*args, **kwargs)
            sys.stdout.flush()  # a full disk or closed pipe shows here, not at exit as an "Exception ignored"
            return result
        except (ConfigError, UsageError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except StoreError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            sys.exit(128 + getattr(exc, "signum", signal.SIGINT))
        except OSError as exc:
            if exc.errno in OUTPUT_ERRNOS and exc.filename is None:
                _silence_stdout()
                click.echo(f"error: cannot write to stdout: {exc.strerror or exc}", err=True)
            else:
                click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper


def check_int_options(values: dict[str, Any]) -> None:
    """Integer options beyond what SQLite stores (`--limit 99999999999999999999`) are a usage error."""
    ctx = click.get_current_context(silent=True)
    for param in ctx.command.params if ctx else ():
        value = values.get(param.name or "")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SQLITE_MAX_INT:
            name = max(param.opts, key=len) if param.opts else param.name
            raise UsageError(f"{name}: {value} is too large (at most {SQLITE_MAX_INT})")


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's own flush at exit does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def read_config(config_path: str):
    from monitor.config import load_config

    return load_config(config_path)


def since_option_value(value: str | None) -> str | None:
    if not value:
        return None
    from monitor.dates import parse_when, to_iso

    try:
        return to_iso(parse_when(value))
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def open_readonly(config) -> Any:
    if "monitor.store" not in sys.modules and "numpy" not in sys.modules:
        # sqlite_utils imports numpy when it is installed (hazm brings it) only to map numpy values on insert:
        # about 0.2 s that a read-only command never uses. Hide it for that one import, then let it be.
        sys.modules["numpy"] = None  # type: ignore[assignment]
        try:
            import monitor.store  # noqa: F401
        finally:
            if sys.modules.get("numpy", 0) is None:
                del sys.modules["numpy"]
    from monitor.store import Store, exists as store_exists

    if not store_exists(config.database):
        return None
    return Store.open(config.database, readonly=True)


def console():
    """The terminal console: every text it prints has feed-supplied control characters removed (ESC, C0/C1,
    bidi overrides), whichever command built the table (monitor.report.clean_renderables)."""
    from rich.console import Console

    from monitor.report import CleanHook

    def broken_pipe() -> None:  # rich's own handler exits 1 silently; the CLI says why (handle_errors)
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    out = Console(soft_wrap=False)
    out.push_render_hook(CleanHook())
    out.on_broken_pipe = broken_pipe  # type: ignore[method-assign]
    return out


def setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries' chatter (one line per HTTP request, hazm's gensim warm-up) only at -vv.
    for noisy in ("httpx", "httpcore", "gensim", "hazm"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


# ------------------------------------------------------------------------------------------ the group
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="persian-news-monitor")
def main() -> None:
    """Persian news monitor: polls the feeds in config.yaml, recognises articles already known however they
    are spelled, flags new items that mention watched parties and figures, and keeps everything in SQLite.

    \b
    Example:
        monitor demo                  # offline: serve the fixture feeds, poll them, print the report
        monitor poll && monitor report --since 24h
    """


def emit_items(rows: list[dict], fmt: str, *, key: str, title: str | None = None, output: str | None = None,
                table_kind: str = "items") -> None:
    """Rows as JSON, CSV or a table; a table's title is "N item(s)" unless given."""
    from monitor import report

    if title is None:
        title = report.plural(len(rows), "item")

    if fmt == "json":
        deliver(report.to_json(rows, key=key) + "\n", output)
    elif fmt == "csv":
        deliver(report.to_csv(rows), output)
    else:
        deliver(report.items_table(rows, title) if table_kind == "items" else report.report_table(rows, title),
                output)


def deliver(result: Any, output: str | None) -> None:
    """Text (a string or an iterator of chunks) or a rich renderable to stdout, or to `output` (owner-only,
    written atomically; tables as plain text; see monitor.files for links, FIFOs and devices). `-` is stdout."""
    from monitor.report import is_renderable, render_text

    if output and output != "-":
        from monitor.files import write_private

        with signals_interrupt():
            try:
                write_private(output, render_text(result) if is_renderable(result) else result)
            except OSError as exc:
                raise MonitorError(f"{output}: cannot write: {exc.strerror or exc}") from None
    elif isinstance(result, str):
        sys.stdout.write(result)
    elif is_renderable(result):
        from rich.console import Group

        out = console()
        for part in result.renderables if isinstance(result, Group) else [result]:
            out.print(part)  # part by part: a long report's lines reach the terminal as they are laid out
    else:
        for chunk in result:
            sys.stdout.write(chunk)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP raise Interrupted (as Ctrl-C raises KeyboardInterrupt): a report killed
    while it is written leaves no temporary file behind."""
    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, interrupt)
    except ValueError:  # not the main thread: leave the handlers as they are
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)



# Register the commands: each module adds its commands to `main` when imported.
COMMAND_MODULES = ("poll", "read", "feeds", "report", "daemon", "rematch", "stories", "notify", "search", "show", "serve",
                   "migrate")
for _name in COMMAND_MODULES:
    if importlib.util.find_spec(f"monitor.cli.{_name}") is not None:
        importlib.import_module(f"monitor.cli.{_name}")
