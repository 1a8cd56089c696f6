"""The Starlette application of `monitor serve`: routes, security headers, the password, the templates.

Feed content is untrusted. Jinja2's autoescape escapes every value, links are only the report's safe links
(view.safe_link: http and https), and each response carries a Content-Security-Policy that lets the page load
only its own script and style (`script-src 'self'`: no inline script or handler could run even if escaping
failed), may not be framed, and is never sniffed as another type.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.web import auth, pages
from monitor.web.chart import chart_page

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
       " form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


class Guard:
    """ASGI middleware: the security headers on every response, and the password when one is set."""

    def __init__(self, app: ASGIApp, password_hash: str | None = None) -> None:
        self.app, self.password_hash = app, password_hash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        if self.password_hash and not self._allowed(scope):
            refusal = PlainTextResponse("a password is needed", status_code=401,
                                        headers={"WWW-Authenticate": 'Basic realm="monitor", charset="UTF-8"'})
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers", [])).get(b"authorization")
        password = auth.basic_password(header.decode("latin-1") if header else None)
        return password is not None and auth.verify(password, self.password_hash or "")


def create_app(config: Any, password_hash: str | None = None) -> Starlette:
    """The application over config's database (opened read-only for every request)."""
    from pathlib import Path

    site = pages.Site(config)
    routes = [
        Route("/", site.flagged),
        Route("/api/newer", site.newer),
        Route("/search", site.search),
        Route("/item/{item_id:int}", site.item),
        Route("/item/{item_id:int}/triage", site.triage, methods=["POST"]),
        Route("/chart", lambda request: chart_page(site, request)),
        Route("/stories", site.stories),
        Route("/feeds", site.feeds),
        Route("/healthz", site.healthz),
        Route("/metrics", site.metrics),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, password_hash=password_hash)],
                     exception_handlers={404: _not_found})


async def _not_found(request: Any, exc: Any) -> Response:
    return PlainTextResponse(getattr(exc, "detail", None) or "not found", status_code=404)
