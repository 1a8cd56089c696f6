"""The sender: drains the outbox after commits, one destination at a time, each with its own capped backoff.

Used by the daemon (a thread woken after each stored feed and once a second: monitor.daemon.alerts) and at the
end of `monitor poll`. The store is touched under `lock` (the daemon's writer lock) and only briefly; the network
never is, so polling goes on while a service is slow or down. A row is marked sent only after its service
answered: a crash in between sends that alert again once, carrying the same id.

Immediate destinations get one message per flagged item; digest destinations one message per period (Tehran
time) with the items queued before the period ended; quiet hours hold both until they end. A destination that
fails is not tried again before its backoff (2 s doubling, at most 10 min) ends, in this process or after a
restart (the rows keep their next attempt).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, ContextManager

from monitor.dates import TEHRAN, now_utc, to_iso
from monitor.errors import MonitorError
from monitor.models import Config, NotifySpec
from monitor.notify import message, routing, timing
from monitor.notify.timing import stamp

log = logging.getLogger("monitor.notify")
BATCH = 100  # rows read at a time: the lock is held for a read of this many, never across a send
DIGEST_MAX_ROWS = 2000  # items one digest message is built from (the message itself says how many it left out)
DIGEST_KEY = "notify.digest."  # meta key prefix: the end of the last digest period sent, per destination


@dataclass
class Drained:
    sent: int = 0
    failed: int = 0
    held: list[str] = field(default_factory=list)  # destinations in quiet hours or backing off
    errors: dict[str, str] = field(default_factory=dict)  # destination -> what its service last answered
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # destinations drain in threads


class Sender:
    """Drain the outbox of `store` for `config.notify`. `clock` is the time the sender believes (tests set it).

    Each destination drains in a thread of its own (a pool): a service that hangs holds up its own alerts only,
    never another destination's. `lock` guards the store's one connection (the daemon's writer lock)."""

    def __init__(self, store: Any, config: Config, *, lock: ContextManager | None = None,
                 clock: Callable[[], datetime] = now_utc, stopping: Callable[[], bool] = lambda: False) -> None:
        self.store, self.config, self.clock, self.stopping = store, config, clock, stopping
        self.lock = lock or threading.RLock()
        self._services: dict[str, Any] = {}
        self._blocked: dict[str, datetime] = {}
        self._restored = False
        self._busy: set[str] = set()
        self._mutex = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="monitor-notify")

    def close(self) -> None:
        """Stop the pool; a send still waiting on a slow service is not waited for."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def reconfigure(self, config: Config) -> None:
        """A new config: services are loaded again (a URL may have changed); backoffs are kept."""
        self.config = config
        self._services.clear()
        self._restored = False  # a destination removed by the edit: its rows are failed on the next drain

    def _service(self, spec: NotifySpec) -> Any:
        from monitor.notify.service import load

        service = self._services.get(spec.name)
        if service is None or service.spec != spec:
            service = self._services[spec.name] = load(spec)
        return service

    def _restore(self) -> None:
        """After a restart: the backoff of a destination whose rows failed, and the rows of removed ones."""
        self._restored = True
        names = {spec.name for spec in self.config.notify}
        with self.lock:
            for spec in self.config.notify:
                until = self.store.outbox.backoff_until(spec.name)
                if until:
                    self._blocked[spec.name] = datetime.fromisoformat(until)
            gone = [d for d in self.store.outbox.destinations_pending() if d not in names]
        for name in gone:
            log.warning("notify: %s is no longer in the config; its pending alerts are marked failed", name)
            with self.lock, self.store.transaction():
                for mode in ("immediate", "digest"):
                    while rows := self.store.outbox.pending(name, mode, limit=BATCH):
                        self.store.outbox.mark_failed([r["id"] for r in rows], "the destination was removed from "
                                                      "the config")

    # ---------------------------------------------------------------- the one entry point
    def drain(self, *, wait_all: bool = True) -> Drained:
        """Send what is due now, each destination in its own thread; one still busy from the last drain is left
        to finish. `wait_all`: return once every destination is done (a poll); the daemon does not wait."""
        if not self._restored:
            self._restore()
        result = Drained()
        futures = []
        for spec in self.config.notify:
            if self.stopping():
                break
            with self._mutex:
                if spec.name in self._busy:
                    continue
                self._busy.add(spec.name)
            futures.append(self._pool.submit(self._one, spec, result))
        if wait_all:
            wait(futures)
        return result

    def _one(self, spec: NotifySpec, result: Drained) -> None:
        try:
            now = self.clock()
            blocked = self._blocked.get(spec.name)
            if (blocked and blocked > now) or timing.in_quiet(spec, now):
                with result.lock:
                    result.held.append(spec.name)
            elif spec.mode == "digest":
                self._digest(spec, now, result)
            else:
                self._immediate(spec, result)
        except MonitorError as exc:  # the daemon stopping, the database locked or full: the rows stay pending
            if not self.stopping():
                log.error("notify %s: %s", spec.name, exc)
        except Exception:  # a bug must not end the sender
            log.exception("notify %s: unexpected error", spec.name)
        finally:
            with self._mutex:
                self._busy.discard(spec.name)

    # ---------------------------------------------------------------- immediate: one message per item
    def _immediate(self, spec: NotifySpec, result: Drained) -> None:
        while not self.stopping():
            with self.lock:
                rows = self.store.outbox.pending(spec.name, "immediate", due=stamp(self.clock()), limit=BATCH)
            if not rows:
                return
            service = self._service(spec)
            if not service.usable:  # no service reads the URL: every pending row fails, none is tried
                self._record(spec, rows, service.send("", ""), result, usable=False)
                continue
            stale = [row for row in rows if not routing.wants(spec, row["matches"])]
            if stale:  # a watch-list edit took the item's flag away before its alert went
                self._drop(stale, "the item no longer matches this destination (the watch list was edited)")
                rows = [row for row in rows if row not in stale]
            for row in rows:
                if self.stopping():
                    return
                msg = message.alert(row, routing.relevant(spec, row["matches"]), html_mode=service.html,
                                    max_len=service.max_body, ref=str(row["id"]))
                answer = service.send(msg.title, msg.body)
                if not self._record(spec, [row], answer, result, usable=service.usable):
                    return

    def _record(self, spec: NotifySpec, rows: list[dict[str, Any]], answer: Any, result: Drained, *,
                usable: bool, digest_end: datetime | None = None) -> bool:
        """Mark rows sent, or count the failure and back the destination off. False: stop this destination."""
        ids = [r["id"] for r in rows]
        now = self.clock()
        with self.lock, self.store.transaction():
            if answer.ok:
                self.store.outbox.mark_sent(ids, stamp(now))
                if digest_end is not None:
                    self.store.meta.set(DIGEST_KEY + spec.name, stamp(digest_end))
            elif not usable:
                self.store.outbox.mark_failed(ids, answer.text)
            else:
                failures = max(r["attempts"] for r in rows) + 1
                until = now + timedelta(seconds=timing.backoff(failures))
                self.store.outbox.mark_retry(ids, answer.text, stamp(until))
                self._blocked[spec.name] = until
        if answer.ok:
            with result.lock:
                result.sent += len(ids)
            self._blocked.pop(spec.name, None)
            log.info("notify %s: sent %s", spec.name, ", ".join(f"alert {r['id']} (item {r['item_id']})"
                                                                  for r in rows[:5]) + ("…" if len(rows) > 5 else ""))
            return True
        with result.lock:
            result.failed += len(ids)
            result.errors[spec.name] = answer.text
        log.warning("notify %s: not sent (%s)%s", spec.name, answer.text,
                    "; given up: no service reads this URL" if not usable else
                    f"; next try at {to_iso(self._blocked[spec.name])}")
        return False

    def _drop(self, rows: list[dict[str, Any]], why: str) -> None:
        with self.lock, self.store.transaction():
            self.store.outbox.mark_failed([r["id"] for r in rows], why)

    # ---------------------------------------------------------------- digest: one message per period
    def _digest(self, spec: NotifySpec, now: datetime, result: Drained) -> None:
        key = DIGEST_KEY + spec.name
        with self.lock:
            last = self.store.meta.get(key)
        if last is None:  # the first period starts now: what is queued from here on goes in its digest
            with self.lock, self.store.transaction():
                self.store.meta.set(key, stamp(now))
            return
        start = max(datetime.fromisoformat(last), now - timedelta(days=8))
        end = timing.next_digest(spec, start)
        if end > now:
            return
        while (following := timing.next_digest(spec, end)) <= now:  # periods missed while stopped: one digest
            end = following
        with self.lock:
            rows = self.store.outbox.pending(spec.name, "digest", before=stamp(end), limit=DIGEST_MAX_ROWS)
            carried = self.store.stories.carried(r["item_id"] for r in rows) if rows else {}
        for row in rows:  # "also carried by N feeds": the story's other feeds, copies included (monitor.stories)
            row["also_carried_by"] = max(0, carried.get(row["item_id"], (0, "", 1))[2] - 1)
        stale = [row for row in rows if not routing.wants(spec, row["matches"])]
        if stale:
            self._drop(stale, "the item no longer matches this destination (the watch list was edited)")
            rows = [row for row in rows if row not in stale]
        if not rows:
            with self.lock, self.store.transaction():
                self.store.meta.set(key, stamp(end))
            return
        service = self._service(spec)
        local = end.astimezone(TEHRAN)
        msg = message.digest(rows, lambda r: routing.relevant(spec, r["matches"]), html_mode=service.html,
                             max_len=service.max_body, ref=f"digest {spec.name} {to_iso(end)}",
                             period=f"{spec.every}, until {local:%Y-%m-%d %H:%M} Tehran")
        self._record(spec, rows, service.send(msg.title, msg.body), result, usable=service.usable, digest_end=end)


__all__ = ["Drained", "Sender", "stamp"]
