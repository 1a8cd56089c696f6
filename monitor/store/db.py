"""The one SQLite connection the rooms share: opening, pragmas, transactions, commit groups, checkpoints.

Why one connection: every room writes inside the same transaction, so a feed's items, matches, fingerprints
and validators commit together or not at all, and a crash at any point leaves either the whole feed's work or
none of it. The database runs in WAL mode so `items`, `report` and `feeds` can read while a poll or the daemon
writes.

A room that keeps writes in memory until the commit (the fingerprint index) attaches `CommitHooks`: they write
its rows just before each commit and drop them when a transaction or a savepoint rolls back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol, Sequence

from sqlite_utils import Database

from monitor.errors import StoreError
from monitor.store.schema import migrate, refusal

BUSY_TIMEOUT_MS = 10_000
# The fingerprint index is read and written at random (by hash): a writer cache of 32 MiB keeps its upper levels
# and recent pages in memory instead of re-reading them for every item (SQLite's default is 2 MiB).
WRITER_CACHE_KIB = 32 * 1024
CHECKPOINT_PAGES = 10_000


class CommitHooks(Protocol):
    """What a room with writes waiting in memory is told about the transactions (see Db.attach)."""

    def before_commit(self) -> None: ...  # write what waits: the transaction commits next
    def after_commit(self) -> None: ...  # what was written is now visible to other connections
    def savepoint_mark(self) -> int: ...  # a savepoint starts: where to roll back to
    def rolled_back(self, mark: int) -> None: ...  # drop what was queued after `mark` (0: everything)


class _NoHooks:
    def before_commit(self) -> None:
        pass

    def after_commit(self) -> None:
        pass

    def savepoint_mark(self) -> int:
        return 0

    def rolled_back(self, mark: int) -> None:
        pass


class _AllHooks:
    """Several rooms' CommitHooks as one: each savepoint's mark is a key to every room's own mark."""

    def __init__(self, rooms: list[CommitHooks]) -> None:
        self._rooms = rooms
        self._marks: dict[int, list[int]] = {}
        self._next = 1

    def before_commit(self) -> None:
        for room in self._rooms:
            room.before_commit()

    def after_commit(self) -> None:
        self._marks.clear()
        for room in self._rooms:
            room.after_commit()

    def savepoint_mark(self) -> int:
        key, self._next = self._next, self._next + 1
        self._marks[key] = [room.savepoint_mark() for room in self._rooms]
        return key

    def rolled_back(self, mark: int) -> None:
        marks = self._marks.pop(mark, None) if mark else None
        if not mark:
            self._marks.clear()
        for room, own in zip(self._rooms, marks or [0] * len(self._rooms)):
            room.rolled_back(own)


def no_hooks() -> CommitHooks:
    """The hooks of a connection no room has attached to yet."""
    return _NoHooks()


def add_hooks(current: CommitHooks, hooks: CommitHooks) -> CommitHooks:
    """`current` (what attach() made so far) with one more room's hooks: what both stores' Db.attach keep."""
    rooms = current._rooms if isinstance(current, _AllHooks) else [] if isinstance(current, _NoHooks) else [current]
    return hooks if not rooms else _AllHooks([*rooms, hooks])


class Db:
    """A monitor database's connection. Open with `Db.open(path)`; `readonly=True` never creates or migrates."""

    def __init__(self, database: Database, path: str) -> None:
        self.database = database
        self.conn: sqlite3.Connection = database.conn
        self.path = path
        # Inside a transaction or commit group, rooms may keep writes in memory until the commit (CommitHooks).
        self.deferring = False
        self._hooks: CommitHooks = _NoHooks()

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False) -> "Db":
        path = str(path)
        try:
            if readonly:
                if not os.path.exists(path):
                    raise StoreError(f"{path}: no database yet (run `monitor poll` first)")
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                       check_same_thread=False)
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                fresh = not os.path.exists(path)
                if fresh:
                    # The database holds what users watch: readable by its owner only.
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            db = Database(conn)
            refused = refusal(db, path)  # before anything is written: a refused file stays as it was
            if refused:
                conn.close()
                raise StoreError(refused)
            if not readonly:
                if db.journal_mode != "wal":
                    db.enable_wal()
                conn.execute("PRAGMA synchronous = NORMAL")
                # Checkpoint (copy the WAL into the database file, and fsync) every 40 MB of WAL, not SQLite's
                # 4 MB: a large poll writes about 100 MB, and each checkpoint copies every page changed since the
                # last one once, so rarer ones copy a page rewritten by many commits fewer times (speed issue);
                # readers only see a longer WAL meanwhile.
                conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
                conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
                migrate(db)
            elif "items" not in db.table_names():
                raise StoreError(f"{path}: not a monitor database (no items table)")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the database: {exc}") from exc
        return cls(db, path)

    def attach(self, hooks: CommitHooks) -> None:
        """A room whose writes wait in memory until the commit (the fingerprints, the search index)."""
        self._hooks = add_hooks(self._hooks, hooks)

    def close(self) -> None:
        self.database.close()

    # ---------------------------------------------------------------- the dialect seam (see store/pg/db.py)
    dialect = "sqlite"  # the rooms' SQL is SQLite's; store/pg/ translates it, and rooms branch on this where it
    # cannot be translated (json_each, FTS5, the catalogue)
    several_writers = False  # one writer at a time (BEGIN IMMEDIATE): a worker's read-only view may be trusted

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.database.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        """One statement over many parameter rows; the cursor's rowcount is the sum of the rows changed."""
        return self.conn.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def has_table(self, name: str) -> bool:
        """Whether the table exists: a read-only open of a database a newer migration has not reached lacks it."""
        return self.one("SELECT count(*) FROM sqlite_master WHERE name = ?", [name]) > 0

    def has_column(self, table: str, column: str) -> bool:
        return any(r[1] == column for r in self.execute(f"PRAGMA table_info({table})"))

    def exclusive(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to hold: SQLite's daemon is the only writer (its lock file), see Store.exclusive."""
        return contextlib.nullcontext()

    def lock_verdicts(self) -> None:
        """Nothing: the transaction's write lock (BEGIN IMMEDIATE) already keeps other writers out while a feed's
        items are judged and inserted (PostgreSQL's Db takes a lock here)."""

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """The ids the next `count` rows of `table` will have: the next after the largest, which is what SQLite
        would choose; the transaction's write lock keeps other writers from taking them."""
        first = (self.one(f"SELECT max(id) FROM {table}") or 0) + 1
        return list(range(first, first + count))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.database.execute(sql, params).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested calls become savepoints).

        The outer transaction is BEGIN IMMEDIATE: it takes the write lock up front, so a poll running beside
        the daemon waits on busy_timeout instead of failing when a read transaction tries to upgrade.
        Fingerprint rows added inside wait in memory and are written sorted just before the commit, as in a
        commit group: lookups see them meanwhile, so a feed's items can be checked against each other.
        """
        conn = self.conn
        try:
            if conn.in_transaction:
                mark = self._hooks.savepoint_mark()
                try:
                    with self.database.atomic():
                        yield
                except BaseException:
                    self._hooks.rolled_back(mark)  # rows deferred by the block rolled back with it
                    raise
                return
            conn.execute("BEGIN IMMEDIATE")
            deferring, self.deferring = self.deferring, True
            try:
                yield
                self._hooks.before_commit()
            except BaseException:
                self._hooks.rolled_back(0)
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self.deferring = deferring
            conn.execute("COMMIT")
            self._hooks.after_commit()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {exc}{hint(exc)}") from exc

    @contextmanager
    def commit_group(self, seconds: float) -> Iterator["CommitGroup"]:
        """One write transaction shared by many `transaction()` blocks, committed about every `seconds`.

        Why: every commit writes each page it dirtied to the WAL, and new fingerprints dirty pages all over
        their (hash-ordered) index, so committing feed by feed rewrote the same pages hundreds of times in a
        large poll. Inside the group each transaction() block is a savepoint, so a feed that fails rolls back
        alone. A crash loses at most the uncommitted group, whose feeds' validators were not saved either, so
        the next poll fetches them again: nothing committed is lost and nothing is duplicated.
        """
        group = CommitGroup(self, seconds)
        self.deferring = True
        try:
            yield group
            group.flush()
        except BaseException:
            self._hooks.rolled_back(0)
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self.deferring = False

    def commit(self) -> None:
        """Commit the open transaction, what waits in memory first (CommitGroup's commits)."""
        self._hooks.before_commit()
        self.conn.execute("COMMIT")
        self._hooks.after_commit()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the database as it was at its first statement."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def background_checkpoints(self, every: float = 1.0) -> Iterator[None]:
        """While inside, a thread of its own copies the WAL into the database file (PRAGMA wal_checkpoint
        PASSIVE) every `every` seconds, and this connection never does.

        Why (speed issue): a checkpoint copies every page changed since the last one and fsyncs the file; run by
        the writer, inside a COMMIT, it stalled a large poll's storing, and with it the workers waiting on it,
        every 40 MB (a timeline of the farm poll shows every process dip together). From another connection it
        overlaps the storing: SQLite releases the GIL, and PASSIVE never waits for the writer, it copies what is
        committed and no reader still needs."""
        conn = self.conn
        stop = threading.Event()

        def run() -> None:
            other = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            try:
                while not stop.wait(every):
                    other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # an optimisation only: the writer's own checkpoints resume after the cycle
                pass
            finally:
                other.close()

        conn.execute("PRAGMA wal_autocheckpoint = 0")
        worker = threading.Thread(target=run, name="monitor-checkpoint", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()
            conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")


class CommitGroup:
    """See Db.commit_group. Call ready() before each unit of writes and flush() before waiting on anything
    slow (the network): the group never holds the write lock while nothing is being written."""

    def __init__(self, db: Db, seconds: float) -> None:
        self._db, self._seconds, self._opened = db, seconds, 0.0

    def ready(self) -> None:
        """Commit the open group if it is old enough; make sure one is open."""
        conn = self._db.conn
        try:
            if conn.in_transaction and time.monotonic() - self._opened >= self._seconds:
                self._db.commit()
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
                self._opened = time.monotonic()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self._db.path}: {exc}{hint(exc)}") from exc

    def flush(self) -> None:
        """Commit what the group holds now."""
        conn = self._db.conn
        try:
            if conn.in_transaction:
                self._db.commit()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self._db.path}: {exc}{hint(exc)}") from exc


def hint(exc: sqlite3.OperationalError) -> str:
    """What a person can do about the two store failures a long-running monitor meets (issue 6)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (f" (another process held the write lock for over {BUSY_TIMEOUT_MS // 1000}s: a second poll, the"
                " daemon, or a backup tool; the transaction was rolled back)")
    if "full" in text:
        return " (free some disk space; the transaction was rolled back and the next poll redoes it)"
    return ""


def chunks(seq: list, size: int) -> Iterator[list]:
    """`seq` in slices of `size`: SQLite bounds the parameters of one statement."""
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


__all__ = ["BUSY_TIMEOUT_MS", "CHECKPOINT_PAGES", "WRITER_CACHE_KIB", "CommitGroup", "CommitHooks", "Db", "add_hooks",
           "chunks", "hint", "no_hooks"]
