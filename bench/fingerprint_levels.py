"""How large may the fingerprint index's fresh level grow before its inserts stop being cheap, and what does a
fold cost? (The rule behind store/fingerprints.py's FOLD_ROWS.)

    .venv/bin/python bench/fingerprint_levels.py                 # 4,000,000 rows, a fold every 1,000,000
    .venv/bin/python bench/fingerprint_levels.py --rows 2000000 --fold 500000

Rows are written as a poll's writer writes them: texts of 50 random 63-bit hashes (as the farm's items have)
through Fingerprints.add inside a transaction, so each commit writes PENDING_ROWS (20,000) rows sorted by hash,
with the writer's pragmas (32 MiB cache, WAL, background checkpoints). Twice, each into a new database:

1. never folded: one level that only grows, as the single table did before m017; the cost of a batch as the
   table grows shows where it outgrows the cache;
2. folded every --fold rows: the batch cost stays that of a small table; each fold's own time is printed with
   the big table's size.

Prints, per step of the rows written: the level's rows and pages, wall and CPU ms per 20,000-row batch (CPU is
the whole process's, the checkpoint thread's included). Only this table is in the cache here; a poll's writer
shares it with the items' indexes and the search index, so the real knee comes earlier than this one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.models import Source  # noqa: E402
from monitor.pipeline import PENDING_ROWS  # noqa: E402
from monitor.store import Store  # noqa: E402

PER_TEXT = 50
PAGE = 4096  # bytes a page: SQLite's default, which the store keeps


def pages(store: Store, table: str) -> int:
    return store.db.one("SELECT count(*) FROM dbstat WHERE name = ?", [table])


def run(path: Path, rows: int, fold: int | None, step: int) -> tuple[list[tuple], list[tuple]]:
    """Write `rows` rows in batches; returns (per step: rows in the fresh level, its pages, wall ms and CPU ms
    per batch) and (per fold: big table's rows before, rows moved, wall s, CPU s)."""
    import numpy as np

    rng = np.random.default_rng(7)
    store = Store.open(path)
    steps: list[tuple] = []
    folds: list[tuple] = []
    texts = PENDING_ROWS // PER_TEXT
    doc, written, fresh, big = 0, 0, 0, 0
    wall = cpu = 0.0
    batches = 0
    with store.db.background_checkpoints():
        while written < rows:
            hashes = rng.integers(1, 2 ** 62, (texts, PER_TEXT), dtype=np.int64).tolist()
            t, c = time.perf_counter(), time.process_time()
            with store.transaction():
                for h in hashes:
                    doc += 1
                    store.fingerprints.add(Source.item(doc), h)
            wall += time.perf_counter() - t
            cpu += time.process_time() - c
            batches += 1
            written += texts * PER_TEXT
            fresh += texts * PER_TEXT
            if written % step == 0:
                steps.append((fresh, pages(store, "fingerprints_fresh"), 1000 * wall / batches, 1000 * cpu / batches))
                wall = cpu = 0.0
                batches = 0
            if fold and fresh >= fold:
                t, c = time.perf_counter(), time.process_time()
                moved = store.fingerprints.fold()
                folds.append((big, moved, time.perf_counter() - t, time.process_time() - c))
                big += moved
                fresh = 0
    store.close()
    return steps, folds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=4_000_000)
    ap.add_argument("--fold", type=int, default=1_000_000)
    ap.add_argument("--step", type=int, default=500_000, help="rows between two printed lines")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fplevels-"))
    try:
        for name, fold in (("never folded (one table)", None), (f"folded every {args.fold:,} rows", args.fold)):
            steps, folds = run(tmp / f"{fold or 0}.db", args.rows, fold, args.step)
            print(f"\n{name}")
            print(f"{'written':>10} {'fresh rows':>11} {'pages':>7} {'MiB':>6} {'wall ms':>8} {'cpu ms':>7}  per batch")
            for i, (fresh, npages, wall, cpu) in enumerate(steps):
                print(f"{(i + 1) * args.step:>10,} {fresh:>11,} {npages:>7,} {npages * PAGE / 2**20:>6.0f}"
                      f" {wall:>8.0f} {cpu:>7.0f}")
            for big, moved, wall, cpu in folds:
                print(f"fold of {moved:,} rows into {big:,}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
