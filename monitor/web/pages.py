"""One function per page. Each reads the store read-only and hands its template what a reader computed:
the report's item views (monitor.report.view), search.run's rows, show.item_whole's record, the stories and
feed_health rows. Nothing here decides what is flagged, found or a copy.

A bad filter value (a `since` that is no date, a watch entry the config lacks) is shown on the page as one
line with status 400, never a traceback.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator

from jinja2 import Environment, PackageLoader
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from monitor.report import view
from monitor.store.pg import shown
from monitor.web import auth

LIMIT = 200  # items a page lists; the report and search CLIs have the whole set
ACTIONS = {"read": ("read", True), "unread": ("read", False), "star": ("starred", True),
           "unstar": ("starred", False), "not_relevant": ("not_relevant", True), "relevant": ("not_relevant", False)}
WATCH_KINDS = ("party", "figure", "country", "other")  # as monitor.models.WATCH_KINDS


class Site:
    """The pages over one config's database."""

    def __init__(self, config: Any) -> None:
        self.config = config
        env = Environment(loader=PackageLoader("monitor.web", "templates"), autoescape=True)
        env.globals.update(when_words=view.jalali_words, fa=view.persian_digits, parse_time=_parse_time,
                           clean=view.clean)
        self.templates = Jinja2Templates(env=env)
        self._matcher: Any = None
        self._secret: str | None = None  # the CSRF secret (monitor.web.auth), read from the database once

    # ------------------------------------------------------------------ helpers
    @contextmanager
    def store(self) -> Iterator[Any]:
        """The database read-only, or None when there is none yet (no poll has run)."""
        from monitor.store import Store, exists

        if not exists(self.config.database):
            yield None
            return

        store = Store.open(self.config.database, readonly=True)
        try:
            yield store
        finally:
            store.close()

    def secret(self) -> str | None:
        """The database's CSRF secret, made on first need (one writable open); None while there is no database."""
        from monitor.store import exists

        if self._secret is None and exists(self.config.database):
            with self.store() as store:
                self._secret = auth.stored_secret(store)
            if self._secret is None:
                from monitor.store import Store

                store = Store.open(self.config.database)
                try:
                    self._secret = auth.stored_secret(store, create=True)
                finally:
                    store.close()
        return self._secret

    @property
    def matcher(self) -> Any:
        if self._matcher is None and self.config.watch:
            from monitor.match import Matcher

            self._matcher = Matcher(self.config.watch)
        return self._matcher

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return self.templates.TemplateResponse(request, name, {"nav": name, **context}, status_code=status)

    def filters(self, request: Request) -> tuple[dict[str, str], dict[str, Any], list[str]]:
        """(the form as given, the store filters, the errors): since, watch, kind, feed, story."""
        q = request.query_params
        form = {k: q.get(k, "").strip() for k in ("since", "watch", "kind", "feed", "story", "after")}
        if "since" not in q:
            form["since"] = "7d"
        errors: list[str] = []
        out: dict[str, Any] = {"since": _when(form["since"], errors), "watch": (), "feed": (), "kind": ()}
        for key, known, what in (("watch", [w.name for w in self.config.watch], "watch entry"),
                                 ("feed", [f.name for f in self.config.feeds], "feed"),
                                 ("kind", WATCH_KINDS, "kind")):
            if form[key] and form[key] not in known:
                errors.append(f"{key}: no {what} named «{form[key]}» in {self.config.path}")
            elif form[key]:
                out[key] = (form[key],)
        out["story"], out["after"] = None, None
        if form["after"]:
            if form["after"].isdigit():
                out["after"] = int(form["after"])
            else:
                errors.append(f"after: «{form['after']}» is not an item id")
        if form["story"]:
            if form["story"].isdigit():
                out["story"] = int(form["story"])
            else:
                errors.append(f"story: «{form['story']}» is not a story id")
        return form, out, errors

    def choices(self) -> dict[str, Any]:
        return {"watches": [w.name for w in self.config.watch], "feed_names": [f.name for f in self.config.feeds],
                "kinds": WATCH_KINDS}

    # ------------------------------------------------------------------ pages
    def flagged(self, request: Request) -> Response:
        """The flagged items newest first with the report's filters; `after` is the newest id for live.js."""
        from monitor.report import with_stories

        form, f, errors = self.filters(request)
        rows: list[dict[str, Any]] = []
        after, marks = 0, {}
        with self.store() as store:
            if store is not None and not errors:
                query = {k: f[k] for k in ("since", "watch", "feed", "kind", "after")}
                with store.snapshot():  # the last id and the list from one read: nothing falls between them
                    after = store.items.last_id()  # "new" is stored after this (store.items.newer)
                    rows = list(with_stories(store.items.iter_query(flagged=True, **query,
                                                                    limit=None if f["story"] else LIMIT), store))
                    if f["story"] is not None:
                        rows = [r for r in rows if r.get("story") == f["story"]][:LIMIT]
                    marks = store.triage.of(r["id"] for r in rows)
        since = datetime.fromisoformat(f["since"]) if f["since"] else None
        report = view.build(rows, watch=self.config.watch, since=since)
        return self.page(request, "flagged.html", 400 if errors else 200, report=report, form=form,
                         errors=errors, after=after, marks=marks, all_url=_without(request, "after"), period=view.period_text(report, words=True), **self.choices())

    def newer(self, request: Request) -> Response:
        """{"count", "newest"}: flagged items of the page's filters stored after the id `after` (the page's last
        id), and the last id now; the page's link lists them (/?…&after=)."""
        _, f, errors = self.filters(request)
        after = f["after"]
        if errors or after is None:
            return JSONResponse({"error": errors[0] if errors else "after: not an item id"}, status_code=400)
        with self.store() as store:
            if store is None:
                return JSONResponse({"count": 0, "newest": after})
            count, newest = store.items.newer(after, flagged=True,
                                              **{k: f[k] for k in ("since", "watch", "feed", "kind")})
        return JSONResponse({"count": count, "newest": newest})

    def search(self, request: Request) -> Response:
        """The same search as `monitor search` (monitor.search.run), over every stored item."""
        from monitor import search

        text = request.query_params.get("q", "").strip()
        errors, notes, found = [], [], []
        if text:
            try:
                parsed = search.parse(text)
            except search.QueryError as exc:
                errors.append(str(exc))
            else:
                with self.store() as store:
                    if store is None or not store.search.exists():
                        notes.append("the search index is not built yet: run `monitor search` or `monitor poll` once")
                    else:
                        if store.search.pending():
                            notes.append("the search index is still being built: some items are not found yet")
                        for row in search.run(store, parsed.text, limit=LIMIT):
                            found.append((view.item_view(row, self.matcher), _marked(row.get("hit"))))
        return self.page(request, "search.html", 400 if errors else 200, q=text, found=found, errors=errors,
                         notes=notes)

    def item(self, request: Request) -> Response:
        """An item whole (monitor.show.item_whole), its texts with the matched terms marked."""
        from monitor.errors import UsageError
        from monitor.show import item_whole

        item_id = request.path_params["item_id"]
        with self.store() as store:
            if store is None:
                raise HTTPException(404, "no database yet (run `monitor poll` first)")
            try:
                record = item_whole(store, item_id, self.matcher)
            except UsageError as exc:
                raise HTTPException(404, str(exc)) from None
            marks = store.triage.attach([{"id": item_id}])[0]["triage"]
            from monitor.triage import propose

            proposals = [p for w in marks["not_relevant"] if (p := propose(store, self.config.watch, item_id, w))]
        watches = {m["watch"] for m in record["matches"]}
        texts = [(label, view.mark(record[key], self.matcher, watches)) for label, key in
                 (("متن خبرخوان", "text"), ("متن صفحهٔ خبر", "article_text")) if record[key]]
        session = request.cookies.get(auth.SESSION_COOKIE) or auth.new_session()
        secret = self.secret()
        response = self.page(request, "item.html", record=record, texts=texts, marks=marks, proposals=proposals,
                             link=view.safe_link(record["link"]), title=view.item_view(record).title,
                             display=_display, csrf=auth.csrf_token(secret, session) if secret else "")
        if request.cookies.get(auth.SESSION_COOKIE) != session:
            response.set_cookie(auth.SESSION_COOKIE, session, max_age=400 * 86400, httponly=True, samesite="strict")
        return response

    async def triage(self, request: Request) -> Response:
        """POST: mark an item read / unread, starred / unstarred, or one of its watch entries (not) relevant;
        refused (403) without this session's CSRF token (auth.csrf_ok) or from another origin. Then back to the item."""
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import PlainTextResponse, RedirectResponse

        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            return PlainTextResponse(f"refused: a request from {origin}", status_code=403)
        form = await request.form()
        secret = await run_in_threadpool(self.secret)
        if not auth.csrf_ok(secret, request.cookies.get(auth.SESSION_COOKIE), str(form.get("csrf", ""))):
            return PlainTextResponse("refused: no valid CSRF token (reload the page and try again)",
                                     status_code=403)
        item_id, action, watch = request.path_params["item_id"], str(form.get("action", "")), str(form.get("watch", ""))
        if action not in ACTIONS or (ACTIONS[action][0] == "not_relevant" and not watch):
            return PlainTextResponse(f"action: {action!r} is not one of {', '.join(ACTIONS)} (with watch= for"
                                     " not_relevant)", status_code=400)
        error = await run_in_threadpool(self._mark, item_id, action, watch)
        if error:
            return PlainTextResponse(error, status_code=404)
        return RedirectResponse(f"/item/{item_id}", status_code=303)

    def _mark(self, item_id: int, action: str, watch: str) -> str | None:
        """Write one triage mark (the one write the web makes: a writable store, opened for it)."""
        from monitor.store import Store

        what, value = ACTIONS[action]
        store = Store.open(self.config.database)
        try:
            if store.search.item(item_id) is None:
                return f"no item with id {item_id} in {shown(self.config.database)}"
            with store.transaction():
                if what == "not_relevant":
                    store.triage.set_not_relevant(item_id, watch, value)
                else:
                    store.triage.set_flag(item_id, what, value)
        finally:
            store.close()
        return None

    def healthz(self, request: Request) -> Response:
        from starlette.responses import PlainTextResponse

        from monitor.web.health import health

        with self.store() as store:
            ok, why = health(self.config, store)
        return PlainTextResponse(why + "\n", status_code=200 if ok else 503)

    def metrics(self, request: Request) -> Response:
        from monitor.web.health import metrics

        with self.store() as store:
            body = metrics(self.config, store)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    def stories(self, request: Request) -> Response:
        form, f, errors = self.filters(request)
        found: list[dict[str, Any]] = []
        available = True
        with self.store() as store:
            if store is not None and not errors:
                available = store.stories.available()
                found = store.stories.query(since=f["since"], watch=f["watch"])
        return self.page(request, "stories.html", 400 if errors else 200, found=found[:LIMIT], form=form,
                         errors=errors, available=available, display=_display, **self.choices())

    def feeds(self, request: Request) -> Response:
        from monitor.report import feed_health

        with self.store() as store:
            rows = feed_health(self.config, store)
        return self.page(request, "feeds.html", rows=rows)


def _without(request: Request, key: str) -> str:
    """This page's address without one of its query parameters."""
    from urllib.parse import urlencode

    return request.url.path + "?" + urlencode([(k, v) for k, v in request.query_params.multi_items() if k != key])


def _when(value: str, errors: list[str]) -> str | None:
    if not value:
        return None
    from monitor.dates import parse_when, to_iso

    try:
        return to_iso(parse_when(value))
    except ValueError as exc:
        errors.append(f"since: {exc}")
        return None


def _parse_time(value: str | None) -> datetime | None:
    return view.local_time({"published": value})


def _display(text: str | None) -> str:
    from monitor.display import display

    return display(view.clean(text))


def _marked(hit: dict[str, Any] | None) -> list[view.Segment]:
    """A search hit's snippet as segments, its marks (offsets into the snippet) marked."""
    if not hit:
        return []
    text, pos, out = hit["snippet"], 0, []
    for start, end in hit["marks"]:
        if start < pos:
            continue
        if start > pos:
            out.append(view.Segment(text[pos:start]))
        out.append(view.Segment(text[start:end], True))
        pos = end
    if pos < len(text):
        out.append(view.Segment(text[pos:]))
    return out
