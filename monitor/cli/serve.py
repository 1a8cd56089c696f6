"""`monitor serve`: the pages of monitor.web under uvicorn."""

from __future__ import annotations

import sys

import click

from monitor.cli import config_option, handle_errors, main, read_config


@main.command("serve")
@config_option
@click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1). Beyond loopback a "
                             "password (serve.password_file) is required.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: serve.port, 8080).")
@click.option("--set-password", "set_password", metavar="FILE", type=click.Path(dir_okay=False),
              help="Read a password from stdin, write its scrypt hash to FILE (for serve.password_file), exit.")
@handle_errors
def serve_cmd(config_path: str, host: str | None, port: int | None, set_password: str | None) -> None:
    """Serve the flagged items, search, items, stories and feed health as web pages (right to left, Jalali
    dates in Tehran time), reading the database read-only. The flagged list shows "N new" as flags arrive.

    \b
    Example:
        monitor serve                        # http://127.0.0.1:8080/
        monitor serve --set-password state/web.pw < pw.txt   # then serve: {password_file: state/web.pw}
    """
    from monitor.web import auth

    if set_password:
        from monitor.files import write_private

        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--set-password: no password on stdin")
        write_private(set_password, auth.hash_password(password) + "\n")
        click.echo(f"wrote a scrypt hash to {set_password}", err=True)
        return
    config = read_config(config_path)
    host = host or config.serve.host
    port = port or config.serve.port
    password_hash = auth.check_bind(host, config.serve.password_file)
    from monitor.store.pg import shown
    from monitor.web.server import serve

    click.echo(f"serving {shown(config.database)} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    serve(config, host, port, password_hash)
