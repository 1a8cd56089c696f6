"""Who may see the pages: anyone on loopback; beyond it, only with the password of `serve.password_file`.

Why a hashed file and scrypt: the file may be read by others on the machine (backups, a shared config folder),
so it holds `scrypt$n$r$p$salt$hash` (hex), never the password; hashlib.scrypt is in the standard library and
memory-hard. The browser sends the password by HTTP Basic authentication, which needs no form and no script.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os

from monitor.errors import UsageError

N, R, P = 2**14, 8, 1


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and "localhost": only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hash_password(password: str) -> str:
    """The line a password file holds."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def read_hash(path: str) -> str:
    """The hash line of a password file, checked; a one-line UsageError naming the file otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            line = f.readline().strip()
    except OSError as exc:
        raise UsageError(f"serve.password_file: {path}: cannot read: {exc.strerror or exc}") from None
    parts = line.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        raise UsageError(f"{path}, line 1: not a scrypt password hash (make one with `monitor serve "
                         f"--set-password {path}`)")
    return line


def verify(password: str, line: str) -> bool:
    _, n, r, p, salt, digest = line.split("$")
    try:
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def basic_password(header: str | None) -> str | None:
    """The password of an `Authorization: Basic …` header (the user name is ignored), or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def check_bind(host: str, password_file: str | None) -> str | None:
    """The password hash to require, or None on loopback; refuses any other address without a password."""
    if password_file:
        return read_hash(password_file)
    if not is_loopback(host):
        raise UsageError(f"--host {host}: serving beyond loopback needs serve.password_file in config.yaml "
                         "(a scrypt hash: `monitor serve --set-password FILE`); or use --host 127.0.0.1")
    return None


# ---------------------------------------------------------------- CSRF
# A triage form carries HMAC(secret, session): the session is a random cookie of this browser (SameSite=Strict,
# HttpOnly), the secret is kept in the database's meta room (key below, made once by the first server). Another
# site can neither read the token (same-origin policy) nor compute it (it lacks the secret), so a forged POST is
# refused; the secret outlives the process, so a page loaded before a restart still posts after it.
SESSION_COOKIE = "monitor_session"
SECRET_KEY = "web.csrf_secret"


def new_session() -> str:
    return base64.urlsafe_b64encode(os.urandom(18)).decode("ascii")


def csrf_token(secret: str, session: str) -> str:
    return hmac.new(secret.encode("ascii"), session.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_ok(secret: str | None, session: str | None, token: str) -> bool:
    """Whether a POST's token is this session's (False without a secret or a session)."""
    return bool(secret and session) and hmac.compare_digest(csrf_token(secret, session), token)


def stored_secret(store: object, create: bool = False) -> str | None:
    """The CSRF secret in the store's meta room; with create (a writable store), made when there is none."""
    secret = store.meta.get(SECRET_KEY)  # type: ignore[attr-defined]
    if secret is None and create:
        secret = os.urandom(32).hex()
        with store.transaction():  # type: ignore[attr-defined]
            store.meta.set(SECRET_KEY, secret)  # type: ignore[attr-defined]
    return secret
