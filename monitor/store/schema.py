"""The schema, as the migrations that build it: a database of any age is brought up to the newest on open.

Each migration runs once, in its own transaction (sqlite-utils Migrations records which ran), so an existing
database keeps its data: a change of the schema is a new migration, never an edit of an old one.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("monitor")


@migrations()
def m001_initial(db: Database) -> None:
    """Feeds, items, matches, corpus documents and the shingle index."""
    # Statement by statement: executescript() would COMMIT and break the migration's transaction.
    _run_script(db, """
        CREATE TABLE feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_fetched TEXT,
            last_status TEXT,
            last_error TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_poll TEXT
        );
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            feed TEXT NOT NULL,
            key TEXT NOT NULL,
            guid TEXT,
            link TEXT,
            canonical_link TEXT,
            title TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            published TEXT,
            fetched_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('new', 'duplicate')),
            dup_kind TEXT,
            dup_ref TEXT,
            dup_score REAL,
            dup_reason TEXT,
            body_hash TEXT,
            title_body_hash TEXT,
            UNIQUE (feed, key)
        );
        CREATE INDEX items_guid ON items(guid);
        CREATE INDEX items_canonical_link ON items(canonical_link);
        CREATE INDEX items_body_hash ON items(body_hash);
        CREATE INDEX items_title_body_hash ON items(title_body_hash);
        CREATE INDEX items_fetched_at ON items(fetched_at);
        CREATE TABLE matches (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            watch TEXT NOT NULL,
            kind TEXT NOT NULL,
            terms TEXT NOT NULL,
            count INTEGER NOT NULL,
            snippet TEXT NOT NULL,
            PRIMARY KEY (item_id, watch)
        );
        CREATE INDEX matches_watch ON matches(watch);
        CREATE TABLE corpus_docs (
            ref TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            mtime REAL NOT NULL,
            size INTEGER NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            published TEXT,
            body_hash TEXT,
            title_body_hash TEXT,
            shingle_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX corpus_body_hash ON corpus_docs(body_hash);
        CREATE INDEX corpus_title_body_hash ON corpus_docs(title_body_hash);
        CREATE TABLE shingles (
            hash INTEGER NOT NULL,
            source TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (hash, source)
        ) WITHOUT ROWID;
        CREATE INDEX shingles_source ON shingles(source);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        """)


@migrations()
def m002_feed_body_hash(db: Database) -> None:
    """The last stored body's hash, to skip parsing when a server ignores conditional requests."""
    db.execute("ALTER TABLE feeds ADD COLUMN body_hash TEXT")


@migrations()
def m003_next_poll_reason(db: Database) -> None:
    """Why the next poll is when it is (backoff, Retry-After, ttl, auto): `monitor feeds` says why a feed is slowed."""
    db.execute("ALTER TABLE feeds ADD COLUMN next_poll_reason TEXT")


@migrations()
def m004_fingerprints(db: Database) -> None:
    """Near-duplicate fingerprints as (hash, doc) integers: a fifth of the bytes of (hash, source, added_at).

    The old table carried a text source ('item:123'), an ISO timestamp and a second index on source in every
    row; writing those was a quarter of a cold poll (speed issue). `doc` is an item id, or minus a corpus
    document's `num`; the near-duplicate window is an item-id bound, since ids grow with fetch time. The hashes
    changed too (one word hash per word), so the old rows cannot be reused: corpus
    documents are forgotten here and fingerprinted again on the next cycle, and stored items within the window
    are fingerprinted again by the pipeline (see `fingerprint_scheme` in meta).
    """
    _run_script(db, """
        CREATE TABLE fingerprints (
            hash INTEGER NOT NULL,
            doc INTEGER NOT NULL,
            PRIMARY KEY (hash, doc)
        ) WITHOUT ROWID;
        DROP TABLE shingles;
        DELETE FROM corpus_docs;
        ALTER TABLE corpus_docs ADD COLUMN num INTEGER;
        CREATE UNIQUE INDEX corpus_docs_num ON corpus_docs(num);
        """)


def _run_script(db: Database, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m005_fingerprint_count(db: Database) -> None:
    """A corpus document's count of winnowed fingerprints is called what it is (it never counted shingles)."""
    db.execute("ALTER TABLE corpus_docs RENAME COLUMN shingle_count TO fingerprint_count")


@migrations()
def m006_guid_per_feed_and_title_hash(db: Database) -> None:
    """A guid is looked up within its feed (it names an item there, not across sites): index (feed, guid). A
    hash of the folded title, for items and corpus documents, finds a known article by its title when an item
    has no text to compare. Corpus documents are marked changed so the next cycle reads them again and fills it;
    items stored before have none (they are still found by link and text)."""
    _run_script(db, """
        DROP INDEX IF EXISTS items_guid;
        CREATE INDEX items_feed_guid ON items(feed, guid);
        ALTER TABLE items ADD COLUMN title_hash TEXT;
        CREATE INDEX items_title_hash ON items(title_hash);
        ALTER TABLE corpus_docs ADD COLUMN title_hash TEXT;
        CREATE INDEX corpus_title_hash ON corpus_docs(title_hash);
        UPDATE corpus_docs SET mtime = -1
        """)


@migrations()
def m007_feed_freshness(db: Database) -> None:
    """What a feed asked for, remembered across polls: its RSS <ttl> and Cache-Control max-age (seconds), which
    a 304 carries neither of, and the moment its server's Retry-After ends, which a one-shot `monitor poll`
    honours as the daemon does."""
    db.execute("ALTER TABLE feeds ADD COLUMN ttl REAL")
    db.execute("ALTER TABLE feeds ADD COLUMN max_age REAL")
    db.execute("ALTER TABLE feeds ADD COLUMN retry_until TEXT")


@migrations()
def m008_article_pages(db: Database) -> None:
    """Items judged on their article page: the page's text beside the feed's (`body` stays the feed's), where
    the judged body came from (`body_source`: feed | page), how the page went (`page_status`: null when no page
    was wanted, ok, failed; `page_reason` says why; `page_attempts`, so a failed page is retried once and never
    again), with a partial index for the retry. Feeds count their article failures and keep the last reason."""
    _run_script(db, """
        ALTER TABLE items ADD COLUMN article_text TEXT;
        ALTER TABLE items ADD COLUMN body_source TEXT NOT NULL DEFAULT 'feed' CHECK (body_source IN ('feed', 'page'));
        ALTER TABLE items ADD COLUMN page_status TEXT CHECK (page_status IN ('ok', 'failed'));
        ALTER TABLE items ADD COLUMN page_reason TEXT;
        ALTER TABLE items ADD COLUMN page_attempts INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX items_page_retry ON items(feed, id) WHERE page_status = 'failed' AND page_attempts = 1;
        ALTER TABLE feeds ADD COLUMN article_failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE feeds ADD COLUMN article_last_error TEXT
        """)


@migrations()
def m009_outbox(db: Database) -> None:
    """The alert outbox (issue 14): one row per (destination, flagged item), written in the transaction that
    stores the item, so a crash never loses an alert; the sender marks it sent after the service answered.
    UNIQUE (destination, item_id): a re-match or a replayed feed never queues an alert twice."""
    _run_script(db, """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            destination TEXT NOT NULL,
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            mode TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt TEXT,
            last_error TEXT,
            sent_at TEXT,
            UNIQUE (destination, item_id)
        );
        CREATE INDEX outbox_pending ON outbox(status, destination, id)
        """)


@migrations()
def m010_search_index(db: Database) -> None:
    """The full-text index of `monitor search` (monitor/store/search.py): a contentless FTS5 table of each
    item's folded words (the words are the items' own texts folded: storing them again would double what an
    item costs on disk), the article words it indexed (to take them out again), and the items waiting to be
    indexed. The fold is Python's (monitor.text), so the migration cannot write the rows itself: it queues
    every stored item, and monitor.search.catch_up indexes them in batches that commit one by one, with a
    progress bar (the next `monitor poll`, `monitor run` cycle or `monitor search`); a crash part-way loses
    nothing, the batches done stay done."""
    _run_script(db, """
        CREATE VIRTUAL TABLE search USING fts5(title, text, tokenize = 'ascii', content = '');
        CREATE TABLE search_articles (item_id INTEGER PRIMARY KEY, words TEXT NOT NULL);
        CREATE TABLE search_pending (item_id INTEGER PRIMARY KEY);
        INSERT INTO search_pending (item_id) SELECT id FROM items
        """)


@migrations()
def m011_stories(db: Database) -> None:
    """Stories: items of different feeds and days about one event (monitor.stories). A story's id is its first
    item's id. story_items holds each item's story and, for a new item, its packed terms, so the writer's window
    is read back without text work. Items stored before this migration get their stories from housekeeping
    (housekeeping.assign_stories, on the next poll or daemon start), not here: that is text work, which the
    store does not do."""
    _run_script(db, """
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            first_seen TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX stories_first_seen ON stories(first_seen);
        CREATE TABLE story_items (
            item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL REFERENCES stories(id),
            terms BLOB
        );
        CREATE INDEX story_items_story ON story_items(story_id)
        """)


@migrations()
def m012_triage(db: Database) -> None:
    """Triage marks of the web page (monitor/store/triage.py): read and starred per item, and "not relevant" per
    item and watch entry. Their own tables, not columns of items or matches: polls and re-matches rewrite
    those, and a person's mark must survive them."""
    _run_script(db, """
        CREATE TABLE triage (
            item_id INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            read INTEGER NOT NULL DEFAULT 0,
            starred INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE triage_not_relevant (
            item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
            watch TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (item_id, watch)
        )
        """)


@migrations()
def m013_item_order_and_counts(db: Database) -> None:
    """What the web page asks most, without a scan of items (issue 17's speed).

    items_sort_at: an index on the expression every list orders and dates by, coalesce(published, fetched_at)
    (store.items.filters and iter_query use it verbatim, so SQLite uses the index): the flagged list walks it
    newest first and stops after a page, instead of sorting every flagged item. An expression index rather than a
    stored sort column: nothing to keep in step by hand, and the cost is one more index entry per insert.

    item_counts: stored items new and duplicate, and flagged (new with a match), kept exact in the writer's own
    transaction, so /metrics reads three rows instead of counting a million. The inserts of items count
    themselves, once a batch (store.items.insert_new): a per-row trigger on items cost 5-25 µs of CPU an item
    (any AFTER INSERT trigger makes SQLite build each whole new row for it; bench/serve.py --insert-cost). The
    rarer writes are triggers, so no writer can forget them: a status change, a deletion (its flagged count is
    taken BEFORE it, since its matches are cascaded after the item is gone), and matches added or removed (a
    re-match)."""
    flagged_now = "EXISTS (SELECT 1 FROM matches m WHERE m.item_id = {id})"
    statements = [
        "CREATE INDEX items_sort_at ON items(coalesce(published, fetched_at))",
        "CREATE TABLE item_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL)",
        "INSERT INTO item_counts (name, n) VALUES"
        " ('new', (SELECT count(*) FROM items WHERE status = 'new')),"
        " ('duplicate', (SELECT count(*) FROM items WHERE status = 'duplicate')),"
        f" ('flagged', (SELECT count(*) FROM items i WHERE status = 'new' AND {flagged_now.format(id='i.id')}))",
        "CREATE TRIGGER item_counts_delete BEFORE DELETE ON items BEGIN"
        " UPDATE item_counts SET n = n - 1 WHERE name = OLD.status;"
        f" UPDATE item_counts SET n = n - 1 WHERE name = 'flagged' AND OLD.status = 'new'"
        f" AND {flagged_now.format(id='OLD.id')}; END",
        "CREATE TRIGGER item_counts_status AFTER UPDATE OF status ON items WHEN OLD.status IS NOT NEW.status BEGIN"
        " UPDATE item_counts SET n = n - 1 WHERE name = OLD.status;"
        " UPDATE item_counts SET n = n + 1 WHERE name = NEW.status;"
        " UPDATE item_counts SET n = n + (NEW.status = 'new') - (OLD.status = 'new') WHERE name = 'flagged'"
        f" AND {flagged_now.format(id='NEW.id')}; END",
        "CREATE TRIGGER item_counts_match_insert AFTER INSERT ON matches BEGIN"
        " UPDATE item_counts SET n = n + 1 WHERE name = 'flagged'"
        " AND (SELECT count(*) FROM matches WHERE item_id = NEW.item_id) = 1"
        " AND EXISTS (SELECT 1 FROM items WHERE id = NEW.item_id AND status = 'new'); END",
        "CREATE TRIGGER item_counts_match_delete AFTER DELETE ON matches BEGIN"
        " UPDATE item_counts SET n = n - 1 WHERE name = 'flagged'"
        f" AND NOT {flagged_now.format(id='OLD.item_id')}"
        " AND EXISTS (SELECT 1 FROM items WHERE id = OLD.item_id AND status = 'new'); END",
    ]
    for statement in statements:
        db.execute(statement)


@migrations()
def m015_bounded_window_lookups(db: Database) -> None:
    """Two lookups of the writer that read every stored item, not only those of the window (speed issue: a
    cycle must not slow as the database grows):

    - the stories' window (Stories.recent: new items with their terms) scanned every row of story_items for the
      few with terms (terms are dropped at 3 x the stories' window): a partial index holds only those;
    - the exact title lookup within the near-duplicate window (Items.exact_matches) read every item ever stored
      with the same title (a daily column's fixed headline) to find one fetched in the window: (title_hash,
      fetched_at) seeks straight to the window."""
    _run_script(db, """
        CREATE INDEX story_items_with_terms ON story_items(item_id) WHERE terms IS NOT NULL;
        DROP INDEX IF EXISTS items_title_hash;
        CREATE INDEX items_title_hash_fetched ON items(title_hash, fetched_at)
        """)


@migrations()
def m016_leases(db: Database) -> None:
    """Several workers sharing one database (issue 16): a feed's lease (who claimed it, until when) and each host's
    next allowed request. Only PostgreSQL's workers use them (store/pg/claims.py): SQLite has one writer, its
    daemon; the columns exist here too so both stores have one schema and `monitor migrate` copies either way."""
    _run_script(db, """
        ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
        ALTER TABLE feeds ADD COLUMN lease_until TEXT;
        CREATE TABLE hosts (host TEXT PRIMARY KEY, next_allowed REAL NOT NULL DEFAULT 0)
        """)


@migrations()
def m018_story_item_dates(db: Database) -> None:
    """Each story member's date (its item's published, else fetched) in its own row: the stories' window
    (Stories.recent) selected by it through a join on items, whose date columns come after the body, so every
    row of the window read its item's overflow pages (speed issue: most of that statement at a million stored
    items). Filled here for the members the window can still read (those holding terms)."""
    _run_script(db, """
        ALTER TABLE story_items ADD COLUMN dated TEXT;
        UPDATE story_items SET dated = (SELECT coalesce(i.published, i.fetched_at) FROM items i
                                        WHERE i.id = story_items.item_id)
            WHERE terms IS NOT NULL
        """)


# Every migration has a PostgreSQL form under the same name in monitor/store/pg/schema.py (write both).


def migrate(db: Database) -> None:
    """Apply the migrations this database has not had yet, and record the schema version (PRAGMA user_version:
    the number of migrations applied) for tools and for an older monitor to see it is older."""
    migrations.apply(db)
    version = len(known_migrations())
    if db.execute("PRAGMA user_version").fetchone()[0] < version:
        db.execute(f"PRAGMA user_version = {version}")


def known_migrations() -> list[str]:
    """The names of this version's migrations, in order (all of them are pending on an empty database)."""
    return [m.name for m in migrations.pending(Database(memory=True))]


def refusal(db: Database, path: str) -> str | None:
    """Why this monitor must not open the database at all, or None. Read-only: asked before anything is
    written, so a refused file is left exactly as it was.

    Two cases. Another application's SQLite file (tables of its own, no record of monitor migrations): the
    migrations would add six tables to it. A database migrated by a newer monitor (a migration this version
    does not know, or a higher user_version): this version would misread or damage what it cannot see."""
    tables = sorted(name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
    if not tables:
        return None  # a new, empty file
    applied = [m.name for m in migrations.applied(db)] if Migrations.migrations_table in tables else []
    if not applied:
        shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
        return (f"{path} is not a monitor database (it holds tables {shown} and no record of monitor migrations);"
                " refusing to add the monitor's tables to it: set `database:` to a new file")
    known = known_migrations()
    unknown = [name for name in applied if name not in known]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if unknown or version > len(known):
        what = f"migration {unknown[0]}" if unknown else f"schema version {version}"
        return (f"{path} was written by a newer version of the monitor ({what}; this version knows up to "
                f"{known[-1]}, version {len(known)}); left untouched: upgrade the monitor to use it")
    return None


__all__ = ["known_migrations", "migrate", "migrations", "refusal"]
