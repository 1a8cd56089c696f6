"""The text functions from a cold start in many threads at once: a table built on first use must never be seen
half built. A poll's worker threads all start on empty tables; before this test a race there failed a feed
about one poll in 25."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter, so every table starts empty. A profile hook makes the first thread to reach each
# call site in monitor's code wait there a moment: the other threads catch up with it, so they all run the
# first-use code at the same time, every run, instead of once in a thousand.
_COLD = r"""
import json, sys, threading, time
from pathlib import Path
from monitor import dedup, text, textbatch

seeds = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
# Threads bring different code points, so several of them fill the tables at once.
blocks = ["".join(chr(c) for c in range(base, base + 300)) for base in (0x600, 0x900, 0x1E00, 0x2000, 0xFB50)]
texts = [s[k::5] for s in seeds[:3] for k in range(2)] + blocks + ["<p>x &amp; <b>y</b></p>\n<td>z"]
THREADS = 8
barrier = threading.Barrier(THREADS)
seen = set()
results, errors = {}, []


def leader_waits(frame, event, arg):
    if event == "c_return" and "monitor" in frame.f_code.co_filename:
        point = (frame.f_code.co_filename, frame.f_lineno)
        if point not in seen:
            seen.add(point)
            time.sleep(0.002)


def work(t):
    d = textbatch.digest([t, t[:200]])
    w = text.Words(t)
    return [d[0].fold, d[0].fingerprints.tolist(), d[1].fold, text.fold(t), w.texts,
            [w.span(k) for k in range(0, len(w.texts), 17)], text.html_to_text("<p>" + t[:300]),
            list(dedup.fingerprint(t[:50], t))]


def run(i):
    barrier.wait()
    sys.setprofile(leader_waits)
    try:
        results[i] = [work(t) for t in texts[i::THREADS] + texts[:1]]
    except BaseException as e:
        errors.append(repr(e))
    finally:
        sys.setprofile(None)


threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i, got in results.items():  # the tables now warm, one thread alone gives the reference
    if json.loads(json.dumps(got)) != json.loads(json.dumps([work(t) for t in texts[i::THREADS] + texts[:1]])):
        errors.append(f"thread {i} got another result than the warm process")
print(json.dumps(errors[:3]))
"""


def test_cold_tables_under_many_threads_give_the_warm_results():
    seeds = str(REPO / "fixtures" / "seeds")
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", _COLD, seeds], cwd=REPO, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == [], out.stdout
