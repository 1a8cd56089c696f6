"""`monitor notify test NAME` and `monitor notify list`: try a destination, and see the outbox."""

from __future__ import annotations

import json

import click

from monitor.cli import config_option, handle_errors, main, open_readonly, read_config
from monitor.errors import UsageError


@main.group()
def notify() -> None:
    """Alerts: try a destination of `notify:` in config.yaml, or list the outbox.

    \b
    Example:
        monitor notify test desk
        monitor notify list --status pending
    """


def _destination(config, name: str):
    spec = next((s for s in config.notify if s.name == name), None)
    if spec is None:
        names = ", ".join(s.name for s in config.notify) or "none"
        raise UsageError(f"no notify destination named {name!r} in {config.path} (destinations: {names})")
    return spec


@notify.command("test")
@config_option
@click.argument("name")
@handle_errors
def notify_test(config_path: str, name: str) -> None:
    """Send a test message to the destination NAME and say what the service answered (exit 1 if it failed).

    \b
    Example:
        monitor notify test desk
    """
    from monitor.notify import message
    from monitor.notify.service import load, shown_url

    config = read_config(config_path)
    spec = _destination(config, name)
    service = load(spec)
    click.echo(f"{spec.name}: {shown_url(spec)}")
    row = {"feed": "monitor", "title": "آزمایش هشدار — a test alert from persian-news-monitor", "link": None,
           "published": None, "fetched_at": None}
    msg = message.alert(row, [{"watch": "test", "count": 1, "snippet": "اگر این پیام را می‌بینید، هشدارها می‌رسند."}],
                        html_mode=service.html, max_len=service.max_body, ref="test")
    answer = service.send(msg.title, msg.body)
    click.echo(f"{spec.name}: {'sent' if answer.ok else 'failed'}: {answer.text}")
    if not answer.ok:
        raise SystemExit(1)


@notify.command("list")
@config_option
@click.option("--status", type=click.Choice(("pending", "sent", "failed")), help="Only rows with this status.")
@click.option("--destination", metavar="NAME", help="Only this destination's rows.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@handle_errors
def notify_list(config_path: str, status: str | None, destination: str | None, limit: int, fmt: str) -> None:
    """The outbox, newest first: one row per (destination, flagged item), with its status, tries and the
    service's last answer.

    \b
    Example:
        monitor notify list --status failed --format json
    """
    from monitor.cli.read import config_for_database
    from monitor.report.view import clean

    config = config_for_database(config_path)
    store = open_readonly(config)
    rows = []
    if store is not None:
        if store.outbox.available():
            rows = store.outbox.query(status=status, destination=destination, limit=limit)
        store.close()
    if fmt == "json":
        click.echo(json.dumps({"outbox": rows}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("outbox: empty" + (f" (status {status})" if status else ""))
        return
    for r in rows:
        line = (f"{r['id']:>6} {r['destination']:<12} {r['status']:<7} {r['mode']:<9} item {r['item_id']} "
                f"({r['feed']}) tries {r['attempts']}")
        if r["status"] == "sent":
            line += f", sent {r['sent_at'][:19].replace('T', ' ')} UTC"
        elif r["last_error"]:
            line += f", last answer: {r['last_error']}"
        click.echo(clean(line))
