"""`monitor match` as a user runs it: highlighted text, --format json, stdin and HTML, no hazm import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, run_cli
from test_e2e import write_config


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return str(write_config(tmp_path_factory.mktemp("match"), {}))


TEXT = "دیدار محمد علی امانی با سفیر پاکستان در خیابان سامانی. کیم جونگ-اون پیام پوتین را دریافت کرد."


def test_json_lists_matches_and_hits_with_offsets(config):
    proc = run_cli("match", "--config", config, "--format", "json", TEXT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"matches", "hits"}
    assert [m["watch"] for m in out["matches"]] == \
        ["Mohammad-Ali Amani", "Vladimir Putin", "Kim Jong-un", "Pakistan"]  # config order
    amani = out["matches"][0]
    assert amani == {"watch": "Mohammad-Ali Amani", "kind": "figure", "terms": ["محمدعلی امانی"], "count": 1,
                     "snippet": "دیدار محمد علی امانی با سفیر پاکستان در خیابان سامانی."}
    assert out["matches"][2]["snippet"] == "کیم جونگ-اون پیام پوتین را دریافت کرد."
    for hit in out["hits"]:
        assert set(hit) == {"watch", "kind", "term", "start", "end", "text"}
        assert TEXT[hit["start"]:hit["end"]] == hit["text"]
    assert [h["text"] for h in out["hits"]] == ["محمد علی امانی", "پاکستان", "کیم جونگ-اون", "پوتین"]


def test_table_prints_the_text_and_one_line_per_entry_and_never_reads_markup(config):
    text = "[bold red]متن[/bold red] " + TEXT
    proc = run_cli("match", "--config", config, text, env={"COLUMNS": "400"})
    assert proc.returncode == 0, proc.stderr
    assert text in proc.stdout  # printed verbatim: square brackets are text, not rich markup
    assert "Mohammad-Ali Amani (figure): 1 mention; terms: «محمدعلی امانی»; as written: «محمد علی امانی»" in proc.stdout
    assert "Pakistan (country): 1 mention" in proc.stdout


def test_highlighting_styles_exactly_the_hits(config):
    """The terminal form, with colours forced: each hit's text sits inside one styled run."""
    proc = run_cli("match", "--config", config, TEXT, env={"COLUMNS": "400", "FORCE_COLOR": "1", "TERM": "xterm"})
    assert proc.returncode == 0, proc.stderr
    first_line = proc.stdout.splitlines()[0]
    for word in ("محمد علی امانی", "پاکستان", "کیم جونگ-اون", "پوتین"):
        assert f"m{word}\x1b[0m" in first_line, word
    assert "mسامانی" not in first_line


def test_stdin_html_and_no_match(config):
    proc = run_cli("match", "--config", config, "-", input="<p>حزب مؤتلفه&zwnj;ای&nbsp;ها</p><script>امانی</script>")
    assert proc.returncode == 0, proc.stderr
    assert "Motalefeh Islamic Party (party): 1 mention" in proc.stdout
    assert "Amani" not in proc.stdout
    proc = run_cli("match", "--config", config, "بی‌امانی در خیابان سامانی")
    assert proc.returncode == 0 and proc.stdout.strip() == "no watch entry matches"
    assert json.loads(run_cli("match", "--config", config, "--format", "json", "سامانه").stdout) == \
        {"matches": [], "hits": []}


def test_match_does_not_import_hazm(config):
    code = ("import sys; from monitor.cli import main\n"
            "try:\n"
            f"    main(['match', '--config', {config!r}, 'امانی'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "assert 'hazm' not in sys.modules, 'hazm imported'\n"
            "assert 'monitor.display_gen' not in sys.modules, 'the display table generator loaded'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
