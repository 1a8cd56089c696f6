"""Where a cold poll's CPU goes, stage by stage, per item, in one process: no network, no worker processes.

    .venv/bin/python bench/stages.py                 # 100 feeds x 40 items of the farm (bench/farm.py)
    .venv/bin/python bench/stages.py --feeds 20 --words 300-500

bench/farm.py measures the whole poll against newsboat; this one says which stage to work on. It generates the
same farm, then times over every item: parsing the feed bodies (parse), plain text of each entry (prepare), the
rest of the analysis a worker does (analyse: words, fingerprints, watch matches, display text), and storing the
analysed feeds into a fresh database the way a poll's storing process does when it analyses in process (store:
dedup verdicts, item rows, fingerprints; in a large poll the workers answer part of the near-duplicate
questions, see monitor.workers). The figures are microseconds per item of CPU time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from farm import DEFAULT_WORDS, WATCHED, make_farm  # noqa: E402

from monitor import analyse as A  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.models import FetchResult  # noqa: E402
from monitor import housekeeping  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.refresh import FeedJob, FeedReply, Writer, body_hash  # noqa: E402
from monitor.store import Store  # noqa: E402

CONTENT_TYPE = "application/rss+xml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--words", default=f"{DEFAULT_WORDS[0]}-{DEFAULT_WORDS[1]}")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="stages-"))
    low, _, high = args.words.partition("-")
    size = make_farm(tmp, args.feeds, args.items, length=(int(low), int(high or low)))
    bodies = [p.read_bytes() for p in sorted(tmp.glob("*.xml"))]
    cfg_path = tmp / "config.yaml"
    cfg_path.write_text(json.dumps({
        "database": str(tmp / "monitor.db"), "corpus": [str(REPO / "fixtures" / "seeds")],
        "feeds": [{"name": f"f{i:04d}", "url": f"http://127.0.0.1:9/{i}"} for i in range(len(bodies))],
        "watch": [{"name": w, "kind": "other", "terms": [w]} for w in WATCHED]}, ensure_ascii=False),
        encoding="utf-8")
    config = load_config(str(cfg_path))
    store = Store.open(config.database)
    matcher = Matcher(config.watch)
    housekeeping.prepare(config, store)
    writer = Writer(config, store)
    A.analyse(bodies[0], CONTENT_TYPE, "http://x/", matcher, lambda keys: set())  # warm-up: tables

    cpu: dict[str, float] = {}

    def timed(stage: str, fn, *a):
        t = time.process_time()
        out = fn(*a)
        cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - t
        return out

    n = 0
    analysed = []
    for body in bodies:
        keyed = timed("parse", A.parse_keyed, body, CONTENT_TYPE, "http://x/")
        for key, raw in keyed:
            timed("prepare", A.prepare, raw, key)
        n += len(keyed)
        items = timed("analyse (all)", A.analyse, body, CONTENT_TYPE, "http://x/", matcher,
                      lambda keys: set())
        analysed.append((body, items))
    cpu["analyse: words, fingerprints, matches, display"] = \
        cpu.pop("analyse (all)") - cpu["parse"] - cpu["prepare"]
    work = []
    for spec, (body, items) in zip(config.feeds, analysed):
        work.append((spec, FetchResult(url=spec.url, status=200, body=b"", content_type=CONTENT_TYPE,
                                       etag='"x"', last_modified=None, elapsed=0.0), body_hash(body), items))

    def store_all() -> None:
        with store.commit_group(1.0) as group:  # commits about every second, as a poll does
            for spec, result, digest, items in work:
                group.ready()
                writer.store_reply(spec, FeedReply(FeedJob(spec.name, spec.url, None, None, None), result,
                                                   digest, None, items))

    timed("store", store_all)
    print(f"farm: {args.feeds} feeds x {args.items} items = {n:,} items, {size / 1e6:.1f} MB")
    total = sum(cpu.values())
    for stage, seconds in cpu.items():
        print(f"  {stage:<48} {seconds / n * 1e6:7.0f} us/item {100 * seconds / total:5.1f}%")
    print(f"  {'total':<48} {total / n * 1e6:7.0f} us/item  ({total:.2f} s CPU)")


if __name__ == "__main__":
    main()
