"""The PostgreSQL connection the rooms share: the same interface as store/db.py's Db (execute, transaction(),
commit_group(), snapshot(), attach(hooks) ...), over psycopg 3 with connections from a psycopg_pool pool.

Why the rooms' SQLite SQL is translated here rather than written twice: most of it is plain SQL that differs
only in placeholders (`?` and `:name`) and in `INSERT OR IGNORE`; translating those (sql.py) keeps one copy
of every query. What cannot be translated (json_each, FTS5, the catalogue) is branched on `dialect` in the
room, next to the SQLite form, so a reader sees both.

Transactions: the connection is in autocommit mode and this class says BEGIN, SAVEPOINT and COMMIT itself, as
the SQLite Db does, so a room's statement outside any transaction commits on its own on both stores. A commit
group is a transaction per `transaction()` block here: several workers share the database, and a feed's
transaction holds the verdict lock (lock_verdicts), which must not wait for the next second's commit.
"""

from __future__ import annotations

import atexit
import os
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence

from monitor.errors import StoreError
from monitor.store.pg import shown
from monitor.store.pg.sql import translate

# pg_advisory_xact_lock key of the verdicts: one feed's items are judged and inserted at a time, whichever worker
# stores them (see lock_verdicts). 0x6d6f6e = "mon".
VERDICT_LOCK = 0x6D6F6E_0001
EXCLUSIVE_LOCK = 0x6D6F6E_0003  # Store.exclusive: housekeeping, one worker at a time

_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()
_abandoned: list[Any] = []  # a forked child's inherited pools: never used, never closed (the parent owns them)


def pool_for(url: str) -> Any:
    """The process's pool for `url`: connections are costly to open on PostgreSQL (a server process each), and
    the web page, the workers' views and the commands open and close stores often."""
    import psycopg
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            # One plain connection first: a server that is not there fails here at once, with libpq's reason,
            # where the pool would go on retrying until its timeout.
            psycopg.connect(url, connect_timeout=10).close()
            pool = ConnectionPool(url, min_size=1, max_size=16, kwargs={"autocommit": True}, open=False,
                                  name="monitor", timeout=30)
            pool.open(wait=True, timeout=15)
            _pools[url] = pool
        return pool


def _after_fork() -> None:
    with _pools_lock:
        _abandoned.extend(_pools.values())
        _pools.clear()


def close_pools() -> None:
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close(timeout=1)


os.register_at_fork(after_in_child=_after_fork)
atexit.register(close_pools)


class PgDb:
    """A monitor database on PostgreSQL. Open with `PgDb.open(url)`; `readonly=True` never creates or migrates."""

    dialect = "postgresql"
    several_writers = True  # other workers commit meanwhile: a worker's view must not be trusted for verdicts

    def __init__(self, pool: Any, conn: Any, url: str, readonly: bool) -> None:
        self._pool, self.conn, self.url, self.readonly = pool, conn, url, readonly
        self.path = shown(url)
        self.deferring = False
        from monitor.store.db import no_hooks

        self._hooks: Any = no_hooks()
        self._savepoints = 0

    @classmethod
    def open(cls, url: str, *, readonly: bool = False) -> "PgDb":
        try:
            import psycopg
        except ImportError:
            raise StoreError(f"{shown(url)}: PostgreSQL needs psycopg: pip install "
                             "'persian-news-monitor[postgresql]'") from None
        from psycopg_pool import PoolTimeout

        try:
            pool = pool_for(url)
            conn = pool.getconn()
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"{shown(url)}: cannot connect to the database: {_one_line(exc)}") from None
        db = cls(pool, conn, url, readonly)
        try:
            conn.execute(f"SET default_transaction_read_only = {'on' if readonly else 'off'}")
            # A commit returns before its WAL is flushed to disk, as SQLite's WAL with synchronous=NORMAL does: a
            # crash of the server loses at most the last fraction of a second of commits, never consistency, and
            # those feeds' validators went with them, so the next poll fetches them again. Flushing at every
            # feed's commit held the verdict lock through an fsync and made the workers queue behind the disk.
            conn.execute("SET synchronous_commit = off")
            from monitor.store.pg.schema import migrate, refusal

            refused = refusal(db)
            if refused:
                raise StoreError(refused)
            if not readonly:
                migrate(db)
            elif not db.has_table("items"):
                raise StoreError(f"{db.path}: not a monitor database yet (no items table; run `monitor poll` first)")
        except psycopg.Error as exc:
            db.close()
            raise StoreError(f"{db.path}: cannot open the database: {_one_line(exc)}") from None
        except BaseException:
            db.close()
            raise
        return db

    # ---------------------------------------------------------------- the rooms' interface (store/db.py)
    def attach(self, hooks: Any) -> None:
        from monitor.store.db import add_hooks

        self._hooks = add_hooks(self._hooks, hooks)

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                if not conn.closed and conn.info.transaction_status != 0:  # not idle: leave nothing open
                    conn.rollback()
            except Exception:
                pass
            self._pool.putconn(conn)

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        import psycopg

        try:
            return self.conn.execute(translate(sql), params or None)
        except psycopg.OperationalError as exc:  # the server went away, a timeout: the store failed, not the SQL
            raise StoreError(f"{self.path}: {_one_line(exc)}") from None

    def executemany(self, sql: str, rows: Iterable[Any]) -> Any:
        import psycopg

        cursor = self.conn.cursor()
        try:
            cursor.executemany(translate(sql), list(rows))
        except psycopg.OperationalError as exc:
            raise StoreError(f"{self.path}: {_one_line(exc)}") from None
        return cursor

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status != 0  # psycopg.pq.TransactionStatus.IDLE

    def has_table(self, name: str) -> bool:
        return self.one("SELECT to_regclass(?) IS NOT NULL", [name]) is True

    def has_column(self, table: str, column: str) -> bool:
        return bool(self.one("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                             " AND table_name = ? AND column_name = ?", [table, column]))

    def lock_verdicts(self) -> None:
        """Hold, until this transaction ends, the lock that makes one worker at a time judge and insert items:
        two workers storing a syndicated pair at once would each judge its copy new, neither seeing the other's
        uncommitted row. Under the lock, READ COMMITTED lets every statement after it see what the previous
        holder committed, so the second copy is judged a duplicate of the first. Why one lock and not unique
        indexes on the exact hashes: near-duplicates (fingerprints) cannot be a unique constraint, and a lock
        around the whole verdict gives both kinds the same answer as one writer would."""
        self.execute("SELECT pg_advisory_xact_lock(?)", [VERDICT_LOCK])

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """A session advisory lock on this connection, waited for and let go at the end (Store.exclusive)."""
        self.execute("SELECT pg_advisory_lock(?)", [EXCLUSIVE_LOCK])
        try:
            yield
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", [EXCLUSIVE_LOCK])

    def reserve_ids(self, table: str, count: int) -> list[int]:
        """`count` ids from the table's identity sequence: unique across workers without a lock, and growing
        with time as the fingerprint window needs."""
        if count <= 0:
            return []
        return sorted(r[0] for r in self.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, ?)", [count]))

    # ---------------------------------------------------------------- transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """As Db.transaction: nested calls become savepoints; rooms' deferred rows are written before COMMIT."""
        import psycopg

        try:
            if self.in_transaction:
                mark = self._hooks.savepoint_mark()
                self._savepoints += 1
                name = f"s{self._savepoints}"
                self.conn.execute(f"SAVEPOINT {name}")
                try:
                    yield
                except BaseException:
                    self._hooks.rolled_back(mark)
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    raise
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
                return
            self.conn.execute("BEGIN")
            deferring, self.deferring = self.deferring, True
            try:
                yield
                self._hooks.before_commit()
            except BaseException:
                self._hooks.rolled_back(0)
                self._rollback()
                raise
            finally:
                self.deferring = deferring
            self.conn.execute("COMMIT")
            self._hooks.after_commit()
        except psycopg.OperationalError as exc:
            raise StoreError(f"{self.path}: {_one_line(exc)} (the transaction was rolled back)") from None

    def _rollback(self) -> None:
        try:
            if self.in_transaction:
                self.conn.execute("ROLLBACK")
        except Exception:
            pass

    @contextmanager
    def commit_group(self, seconds: float) -> Iterator["PgCommitGroup"]:
        """Each transaction() block inside commits on its own (see the module's docstring)."""
        deferring, self.deferring = self.deferring, True
        try:
            yield PgCommitGroup(self)
        except BaseException:
            self._hooks.rolled_back(0)
            self._rollback()
            raise
        finally:
            self.deferring = deferring

    def commit(self) -> None:
        self._hooks.before_commit()
        self.conn.execute("COMMIT")
        self._hooks.after_commit()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction (REPEATABLE READ): every query inside sees the database as at its first."""
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            yield
        finally:
            self._rollback() if self.conn.info.transaction_status == 3 else self.conn.execute("COMMIT")

    @contextmanager
    def background_checkpoints(self, every: float = 1.0) -> Iterator[None]:
        """Nothing to do: PostgreSQL checkpoints in its own processes."""
        yield


class PgCommitGroup:
    """CommitGroup's interface; every transaction() block commits by itself, so there is nothing to hold."""

    def __init__(self, db: PgDb) -> None:
        self._db = db

    def ready(self) -> None:
        pass

    def flush(self) -> None:
        pass


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


__all__ = ["EXCLUSIVE_LOCK", "PgCommitGroup", "PgDb", "VERDICT_LOCK", "close_pools", "pool_for"]
