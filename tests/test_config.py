"""Tests for monitor.config: real files in tmp_path, every error names file, line and key."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.models import Config, DedupSettings, FeedSpec, HTTPSettings, Schedule, WatchEntry
from monitor.units import parse_duration, parse_size

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"

MINIMAL_FEEDS = 'feeds:\n  - {name: mehr, url: "https://www.mehrnews.com/rss"}\n'


def write(tmp_path: Path, text: str | bytes, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def load_error(tmp_path: Path, text: str | bytes, name: str = "config.yaml") -> ConfigError:
    path = write(tmp_path, text, name)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def assert_error(err: ConfigError, line: int | None, key: str | None, *fragments: str,
                 name: str = "config.yaml") -> None:
    """The message names the file, the line and the key path, plus whatever explains the problem."""
    text = str(err)
    assert name in text
    assert err.line == line, text
    assert err.key == key, text
    if line is not None:
        assert f"{name}:{line}" in text
    if key is not None:
        assert f": {key}: " in text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


# --------------------------------------------------------------------------- valid files


FULL = """
    # a complete config
    database: data/m.db
    corpus: [fixtures/seeds, /abs/corpus]
    schedule: {interval: 10m, jitter: 45s}
    http:
      timeout: 30
      max_bytes: 2MB
      user_agent: "test-agent/1.0"
      concurrency: 8
      max_redirects: 0
      per_host: 3
      host_delay: 2s
    dedup: {window_days: 3.5, threshold: 1}
    feeds:
      - {name: mehr, url: "https://www.mehrnews.com/rss", interval: 10m}
      - name: isna.fa
        url: http://www.isna.ir/rss
        interval: auto
      - name: tasnim_1
        url: https://www.tasnimnews.com/fa/rss/feed/0/8/0
    watch:
      - name: Motalefeh Islamic Party
        kind: party
        terms: [حزب موتلفه اسلامی, موتلفه]
        suffixes: [ها, ای]
        exclude: [موتلفه خبر]
      - name: Iran
        kind: country
        terms: ایران
        suffixes: []
"""


def write_full(tmp_path: Path) -> Path:
    """FULL with its corpus paths made (a corpus path that does not exist is an error)."""
    (tmp_path / "fixtures" / "seeds").mkdir(parents=True, exist_ok=True)
    (tmp_path / "abs" / "corpus").mkdir(parents=True, exist_ok=True)
    return write(tmp_path, FULL.replace("/abs/corpus", str(tmp_path / "abs" / "corpus")))


def test_full_config_round_trips(tmp_path: Path) -> None:
    path = write_full(tmp_path)
    config = load_config(path)
    base = str(tmp_path)
    assert config == Config(
        path=str(path),
        database=os.path.join(base, "data", "m.db"),
        corpus=(os.path.join(base, "fixtures", "seeds"), os.path.join(base, "abs", "corpus")),
        feeds=(
            FeedSpec("mehr", "https://www.mehrnews.com/rss", 600.0),
            FeedSpec("isna.fa", "http://www.isna.ir/rss", "auto"),
            FeedSpec("tasnim_1", "https://www.tasnimnews.com/fa/rss/feed/0/8/0", None),
        ),
        watch=(
            WatchEntry("Motalefeh Islamic Party", "party", ("حزب موتلفه اسلامی", "موتلفه"), ("ها", "ای"),
                       ("موتلفه خبر",)),
            WatchEntry("Iran", "country", ("ایران",), (), ()),
        ),
        schedule=Schedule(interval=600.0, jitter=45.0),
        http=HTTPSettings(timeout=30.0, max_bytes=2 * 1024 * 1024, user_agent="test-agent/1.0",
                          concurrency=8, max_redirects=0, per_host=3, host_delay=2.0),
        dedup=DedupSettings(window_days=3.5, threshold=1.0),
    )
    assert isinstance(config.http.timeout, float)


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds: []\n")
    config = load_config(path)
    assert config.path == str(path) and os.path.isabs(config.path)
    assert config.database == os.path.join(str(tmp_path), "state", "monitor.db")
    assert config.corpus == () and config.feeds == () and config.watch == ()
    assert config.schedule == Schedule() and config.http == HTTPSettings() and config.dedup == DedupSettings()
    assert config.schedule.interval == 15 * 60 and config.schedule.jitter == 30


def test_relative_config_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "feeds: []\ncorpus: seeds\n")
    (tmp_path / "seeds").mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config("config.yaml")
    assert config.path == str(tmp_path / "config.yaml")
    assert config.corpus == (str(tmp_path / "seeds"),)


def test_null_optional_sections_mean_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "feeds:\nwatch:\nhttp:\ncorpus:\n"))
    assert config.feeds == () and config.watch == () and config.http == HTTPSettings() and config.corpus == ()


def test_json_loads_too(tmp_path: Path) -> None:
    data = {
        "database": "x.db",
        "schedule": {"interval": "1h", "jitter": 0},
        "http": {"max_bytes": 1000},
        "feeds": [{"name": "mehr", "url": "https://mehrnews.com/rss", "interval": 90}],
        "watch": [{"name": "w", "kind": "figure", "terms": ["خامنه‌ای"]}],
    }
    path = write(tmp_path, json.dumps(data, ensure_ascii=False, indent=2), "config.json")
    config = load_config(path)
    assert config.database == str(tmp_path / "x.db")
    assert config.schedule == Schedule(3600.0, 0.0)
    assert config.http.max_bytes == 1000
    assert config.feeds == (FeedSpec("mehr", "https://mehrnews.com/rss", 90.0),)
    assert config.watch[0].terms == ("خامنه‌ای",)


def test_json_errors_have_lines(tmp_path: Path) -> None:
    err = load_error(tmp_path, '{\n  "feeds": [],\n  "htp": {}\n}\n', "config.json")
    assert_error(err, 3, "htp", 'did you mean "http"', name="config.json")


def test_anchors_aliases_and_merge_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
        feeds:
          - &base {name: a, url: "https://a.example/rss", interval: 5m}
          - <<: *base
            name: b
        watch:
          - name: one
            kind: other
            terms: &terms [alpha, beta]
          - name: two
            kind: other
            terms: *terms
    """))
    assert config.feeds[1] == FeedSpec("b", "https://a.example/rss", 300.0)
    assert config.watch[1].terms == ("alpha", "beta")


@pytest.mark.parametrize("text, line, key", [
    ("feeds: []\nhttp: &h {<<: *h}\n", 2, "http.<<"),
    ('feeds:\n  - &x {name: a, url: "https://a.ir", <<: *x}\n', 2, "feeds[0].<<"),
])
def test_self_merge_is_an_error_not_a_hang(tmp_path: Path, text: str, line: int, key: str) -> None:
    assert_error(load_error(tmp_path, text), line, key, "cannot include the mapping it is in")


def test_self_referencing_alias(tmp_path: Path) -> None:
    assert_error(load_error(tmp_path, "feeds: &a [*a]\n"), 1, "feeds[0]", "expected a mapping")


def test_deeply_nested_yaml(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested too deeply" in str(err)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "\ufefffeeds: []\n".encode("utf-8")))
    assert config.feeds == ()


def test_terms_are_stripped_and_deduplicated(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
        feeds: []
        watch:
          - {name: w, kind: other, terms: [" موتلفه ", موتلفه, "حزب\u200cموتلفه"]}
    """))
    assert config.watch[0].terms == ("موتلفه", "حزب\u200cموتلفه")


def test_loading_twice_gives_equal_configs(tmp_path: Path) -> None:
    path = write_full(tmp_path)
    assert load_config(path) == load_config(path)


@pytest.mark.skipif(not REPO_CONFIG.exists(), reason="the repository's config.yaml is not written yet")
def test_repository_config_loads() -> None:
    config = load_config(REPO_CONFIG)
    assert config.path == str(REPO_CONFIG)


# --------------------------------------------------------------------------- file-level errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value) and "not found" in str(info.value)


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="folder"):
        load_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\n# ok\nwatch: [ايران]\n".encode("cp1256"))
    assert_error(err, 3, None, "not UTF-8")


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds:
          - name: mehr
            url: "https://x.ir
        watch: []
    """)
    assert_error(err, 5, None, "YAML syntax error", "quoted scalar", "line 5, column 1", "started on line 3")


def test_yaml_bad_indentation(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds:\n  - name: a\n   url: b\n")
    assert_error(err, 3, None, "YAML syntax error", "line 3, column")


def test_two_documents(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\n---\nfeeds: []\n")
    assert_error(err, 2, None, "YAML syntax error")


def test_empty_file(tmp_path: Path) -> None:
    assert_error(load_error(tmp_path, ""), 1, None, "empty")


def test_comments_only_file_is_empty(tmp_path: Path) -> None:
    assert_error(load_error(tmp_path, "# nothing here\n\n"), 1, None, "empty")


@pytest.mark.parametrize("text, got", [("- a\n- b\n", "a list"), ("just text\n", "text")])
def test_top_level_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    assert_error(load_error(tmp_path, text), 1, None, "top level must be a mapping", got)


def test_feeds_required(tmp_path: Path) -> None:
    assert_error(load_error(tmp_path, "database: x.db\n"), 1, "feeds", "is missing; required here: feeds")


def test_python_tag_rejected(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds: []
        database: !!python/object/apply:os.system ["echo pwned"]
    """)
    assert_error(err, 2, "database", "!!python/object/apply:os.system", "not allowed")


def test_custom_local_tag_rejected_deep(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds:
          - name: a
            url: !url "https://a.ir"
    """)
    assert_error(err, 3, "feeds[0].url", "!url", "not allowed")


def test_control_character_rejected(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\ndatabase: a\x07b\n")
    assert_error(err, 2, None, "not allowed")


# --------------------------------------------------------------------------- keys


def test_unknown_top_level_key_suggests_closest(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\n\nfeedz: []\n")
    assert_error(err, 3, "feedz", 'unknown key "feedz"', 'did you mean "feeds"',
                 "Allowed keys: articles, corpus, database, dedup, feeds, http, notify, notify_backfill, report, schedule, serve, watch")


def test_unknown_nested_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\nhttp:\n  timeout: 3\n  timout: 4\n")
    assert_error(err, 4, "http.timout", 'did you mean "timeout"', "max_bytes")


def test_unknown_key_in_list_item(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds:
          - {name: a, url: "https://a.ir"}
          - name: b
            url: "https://b.ir"
            intervall: 5m
    """)
    assert_error(err, 5, "feeds[1].intervall", 'did you mean "interval"')


def test_feed_group_is_optional_text_and_listed_among_the_feed_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'feeds:\n  - {name: a, url: "https://a.ir", group: "News/Iran"}\n'
                                         '  - {name: b, url: "https://b.ir"}\n'))
    assert [f.group for f in config.feeds] == ["News/Iran", None]
    assert_error(load_error(tmp_path, 'feeds:\n  - {name: a, url: "https://a.ir", group: 3}\n'), 2,
                 "feeds[0].group", "expected text")
    err = load_error(tmp_path, 'feeds:\n  - {name: a, url: "https://a.ir", grop: x}\n')
    assert_error(err, 2, "feeds[0].grop", 'did you mean "group"', "Allowed keys: full_text, group, interval, name, url")


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\nzzz: 1\n")
    assert_error(err, 2, "zzz", 'unknown key "zzz".', "Allowed keys:")
    assert "did you mean" not in str(err)


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\ndatabase: a.db\ndatabase: b.db\n")
    assert_error(err, 3, "database", 'duplicate key "database"', "line 2")


def test_duplicate_nested_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds:
          - name: a
            url: "https://a.ir"
            url: "https://b.ir"
    """)
    assert_error(err, 4, "feeds[0].url", "duplicate key", "line 3")


def test_non_string_key(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds: []\n12: x\n")
    assert_error(err, 2, None, "keys must be plain words")


# --------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize("text, line, key, fragments", [
    ("feeds: mehr\n", 1, "feeds", ("expected a list", "text")),
    ("feeds: {name: a}\n", 1, "feeds", ("expected a list", "a mapping")),
    ("feeds: []\nhttp: [1, 2]\n", 2, "http", ("expected a mapping", "a list")),
    ("feeds: []\nschedule: 15m\n", 2, "schedule", ("expected a mapping",)),
    ("feeds:\n  - mehr\n", 2, "feeds[0]", ("expected a mapping",)),
    ("feeds: []\nhttp:\n  timeout: true\n", 3, "http.timeout", ("true", "not a duration")),
    ("feeds: []\nhttp:\n  concurrency: yes\n", 3, "http.concurrency", ("whole number", "true/false")),
    ("feeds: []\nhttp:\n  concurrency: 2.5\n", 3, "http.concurrency", ("whole number",)),
    ("feeds: []\nhttp:\n  concurrency: 0\n", 3, "http.concurrency", ("at least 1",)),
    ("feeds: []\nhttp:\n  max_redirects: -1\n", 3, "http.max_redirects", ("at least 0",)),
    ("feeds: []\nhttp:\n  per_host: 0\n", 3, "http.per_host", ("at least 1",)),
    ("feeds: []\nhttp:\n  host_delay: -1s\n", 3, "http.host_delay", ("duration",)),
    ("feeds: []\nhttp:\n  user_agent: 12\n", 3, "http.user_agent", ("expected text", "quotes")),
    ("feeds: []\nhttp:\n  user_agent: [a]\n", 3, "http.user_agent", ("expected a single value", "a list")),
    ("feeds: []\nhttp:\n  user_agent: \"a\\nb\"\n", 3, "http.user_agent", ("control character",)),
    ("feeds: []\nhttp:\n  max_bytes: 0\n", 3, "http.max_bytes", ("more than 0",)),
    ("feeds: []\ndedup:\n  threshold: \"0.5\"\n", 3, "dedup.threshold", ("expected a number",)),
    ("feeds: []\ndedup:\n  threshold: 0\n", 3, "dedup.threshold", ("more than 0 and at most 1",)),
    ("feeds: []\ndedup:\n  threshold: 1.5\n", 3, "dedup.threshold", ("at most 1",)),
    ("feeds: []\ndedup:\n  window_days: 0\n", 3, "dedup.window_days", ("more than 0",)),
    ("feeds: []\ndedup:\n  window_days: .inf\n", 3, "dedup.window_days", ("expected a number",)),
    ("feeds: []\ndedup:\n  window_days: false\n", 3, "dedup.window_days", ("true/false",)),
    ("feeds: []\ndatabase: [a, b]\n", 2, "database", ("expected a single value",)),
    ("feeds: []\ndatabase: \"  \"\n", 2, "database", ("cannot be empty",)),
    ("feeds: []\ncorpus: [., 3]\n", 2, "corpus[1]", ("expected text",)),
    ("feeds: []\ncorpus: {a: b}\n", 2, "corpus", ("expected a list",)),
    ("feeds: []\nschedule:\n  interval: 0\n", 3, "schedule.interval", ("longer than 0",)),
    ("feeds: []\nschedule:\n  jitter: -5\n", 3, "schedule.jitter", ("-5",)),
    ("feeds: []\nschedule:\n  interval: 10x\n", 3, "schedule.interval", ('"10x" is not a duration',)),
    ("feeds: []\nhttp:\n  max_bytes: 15XB\n", 3, "http.max_bytes", ('"15XB" is not a size',)),
    ("feeds: []\nhttp:\n  timeout: 2024-01-01\n", 3, "http.timeout", ("not a duration",)),
])
def test_wrong_types_and_values(tmp_path: Path, text: str, line: int, key: str,
                                fragments: tuple[str, ...]) -> None:
    assert_error(load_error(tmp_path, text), line, key, *fragments)


# --------------------------------------------------------------------------- feeds


def test_feed_missing_url(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds:\n  - {name: a, url: \"https://a.ir\"}\n  - name: b\n")
    assert_error(err, 3, "feeds[1].url", "is missing; required here: name, url")


def test_feed_null_name(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds:\n  - name:\n    url: https://a.ir\n")
    assert_error(err, 2, "feeds[0].name", "cannot be empty")


@pytest.mark.parametrize("url, why", [
    ("ftp://x", "http:// or https://"),
    ("www.mehrnews.com/rss", "http:// or https://"),
    ("https:///rss", "no host"),
    ("https://", "no host"),
    ("https://mehr news.com/rss", "spaces"),
    ("https://mehrnews.com:99999/rss", "port"),
    ("javascript:alert(1)", "http:// or https://"),
])
def test_bad_feed_url(tmp_path: Path, url: str, why: str) -> None:
    err = load_error(tmp_path, f"""
        feeds:
          - {{name: a, url: "https://a.ir/rss"}}
          - name: b
            url: "{url}"
    """)
    assert_error(err, 4, "feeds[1].url", f'"{url}" is not an http(s) URL', why)


def test_feed_url_not_a_string(tmp_path: Path) -> None:
    err = load_error(tmp_path, "feeds:\n  - name: a\n    url: [https://a.ir]\n")
    assert_error(err, 3, "feeds[0].url", "expected a single value", "a list")


@pytest.mark.parametrize("name", ["_mehr", "mehr news", "مهر", "-x", "a/b"])
def test_bad_feed_name(tmp_path: Path, name: str) -> None:
    err = load_error(tmp_path, f'feeds:\n  - url: "https://a.ir"\n    name: "{name}"\n')
    assert_error(err, 3, "feeds[0].name", "not a valid feed name")


def test_duplicate_feed_names(tmp_path: Path) -> None:
    err = load_error(tmp_path, """
        feeds:
          - {name: mehr, url: "https://a.ir"}
          - {name: isna, url: "https://b.ir"}
          - name: Mehr
            url: "https://c.ir"
    """)
    assert_error(err, 4, "feeds[2].name", 'duplicate feed name "Mehr"', "line 2")


@pytest.mark.parametrize("interval, why", [("10", None), ("-5m", "not a duration"), ("soon", "not a duration"),
                                           ("0s", "longer than 0")])
def test_feed_interval(tmp_path: Path, interval: str, why: str | None) -> None:
    text = f'feeds:\n  - name: a\n    url: "https://a.ir"\n    interval: {interval}\n'
    if why is None:
        assert load_config(write(tmp_path, text)).feeds[0].interval == 10.0
    else:
        assert_error(load_error(tmp_path, text), 4, "feeds[0].interval", why)


# --------------------------------------------------------------------------- watch


WATCH_HEAD = MINIMAL_FEEDS + "watch:\n"


def test_bad_kind_lists_allowed(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: person\n    terms: [x]\n")
    assert_error(err, 5, "watch[0].kind", '"person" is not a kind', "party, figure, country, other")


def test_kind_required(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    terms: [x]\n")
    assert_error(err, 4, "watch[0].kind", "required")


def test_empty_terms(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: party\n    terms: []\n")
    assert_error(err, 6, "watch[0].terms", "at least one")


def test_terms_missing(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: party\n")
    assert_error(err, 4, "watch[0].terms", "required")


@pytest.mark.parametrize("term", ['"   "', '"..."', '"؟!،"', '"\u200c"'])
def test_term_without_letters(tmp_path: Path, term: str) -> None:
    err = load_error(tmp_path, WATCH_HEAD + f"  - name: x\n    kind: party\n    terms:\n      - موتلفه\n      - {term}\n")
    fragment = "cannot be empty" if term == '"   "' else "no letters or digits"
    assert_error(err, 8, "watch[0].terms[1]", fragment)


def test_term_wrong_type(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: party\n    terms: [a, {b: c}]\n")
    assert_error(err, 6, "watch[0].terms[1]", "expected a single value", "a mapping")


def test_suffix_and_exclude_validated(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: party\n    terms: [a]\n    suffixes: [ها, '']\n")
    assert_error(err, 7, "watch[0].suffixes[1]", "cannot be empty")
    err = load_error(tmp_path, WATCH_HEAD + "  - name: x\n    kind: party\n    terms: [a]\n    exclude: {a: 1}\n")
    assert_error(err, 7, "watch[0].exclude", "expected a list")


def test_duplicate_watch_names(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + """\
  - {name: Iran, kind: country, terms: [ایران]}
  - name: iran
    kind: country
    terms: [ايران]
""")
    assert_error(err, 5, "watch[1].name", 'duplicate watch name "iran"', "line 4")


def test_watch_not_a_list(tmp_path: Path) -> None:
    err = load_error(tmp_path, WATCH_HEAD + "  name: x\n")
    assert_error(err, 4, "watch", "expected a list", "a mapping")


# --------------------------------------------------------------------------- durations and sizes


@pytest.mark.parametrize("value, seconds", [
    (0, 0.0), (90, 90.0), (1.5, 1.5), ("90", 90.0), ("2.5", 2.5), ("30s", 30.0), ("10m", 600.0),
    ("15m", 900.0), ("1h", 3600.0), ("1d", 86400.0), ("1h30m", 5400.0), ("1h 30m", 5400.0),
    ("1d2h3m4s", 93784.0), (" 45s ", 45.0), ("0.5h", 1800.0), ("1 h", 3600.0),
    # the grammar --since shares: weeks, "min", units in upper case but M, Persian digits
    ("2w", 1209600.0), ("1w2d", 777600.0), ("10min", 600.0), ("1h30min", 5400.0), ("1H", 3600.0), ("۲۴h", 86400.0),
])
def test_parse_duration_ok(value: object, seconds: float) -> None:
    result = parse_duration(value, key="k")
    assert result == seconds and isinstance(result, float)


@pytest.mark.parametrize("value", [
    -1, -0.5, "-5m", "", "   ", "abc", "10x", "1h30", "30m1h", "1m1m", "10M", "1min1m", "1.2.3s", "h", "5 m x",
    True, False, None, [1], {"a": 1}, float("nan"), float("inf"), "1e3",
])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_duration(value, key="schedule.interval", path="c.yaml", line=7)
    assert "c.yaml:7: schedule.interval:" in str(info.value)


def test_parse_duration_refuses_capital_m_as_ambiguous() -> None:
    with pytest.raises(ConfigError) as info:
        parse_duration("1M", key="schedule.interval", path="c.yaml", line=7)
    assert str(info.value).startswith('c.yaml:7: schedule.interval: "1M" is not a duration: M could mean months')


@pytest.mark.parametrize("value, size", [
    (0, 0), (100, 100), (2048.0, 2048), ("100", 100), ("100B", 100), ("512KB", 512 * 1024), ("512kb", 512 * 1024),
    ("15MB", 15 * 1024 ** 2), ("15MiB", 15 * 1024 ** 2), ("15 MB", 15 * 1024 ** 2), ("1GB", 1024 ** 3),
    ("1GiB", 1024 ** 3), ("1.5KB", 1536), ("2M", 2 * 1024 ** 2), ("1k", 1024),
])
def test_parse_size_ok(value: object, size: int) -> None:
    result = parse_size(value, key="k")
    assert result == size and type(result) is int


@pytest.mark.parametrize("value", [
    -1, "-1MB", "", "MB", "15TB", "15 M B", "abc", 1.5, True, None, [1], float("inf"), "1e6",
])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        parse_size(value, key="http.max_bytes")
    assert "http.max_bytes" in str(info.value)


def test_schedule_bounds_of_auto_interval(tmp_path: Path) -> None:
    text = "feeds:\n  - {name: a, url: 'https://a.ir', interval: auto}\nschedule: {min_interval: 1m, max_interval: 2h}\n"
    config = load_config(write(tmp_path, text))
    assert config.feeds[0].interval == "auto"
    assert (config.schedule.min_interval, config.schedule.max_interval) == (60.0, 7200.0)
    err = load_error(tmp_path, "feeds: []\nschedule:\n  min_interval: 3h\n  max_interval: 1h\n")
    assert_error(err, 3, "schedule.min_interval", "max_interval")


def test_libyaml_and_pure_python_loaders_read_configs_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The config is composed with libyaml when PyYAML has it (speed issue), with the pure-Python loader otherwise
    and for error messages: both must give the same Config, anchors, merge keys and line numbers included."""
    import yaml

    if getattr(yaml, "CSafeLoader", None) is None:
        pytest.skip("PyYAML was built without libyaml here")
    merged = tmp_path / "merged.yaml"
    merged.write_text(textwrap.dedent("""\
        feeds:
          - &base {name: a, url: "http://127.0.0.1/a", interval: 10m}
          - <<: *base
            name: b
        watch:
          - {name: حزب, kind: party, terms: &t [مؤتلفه, "موتلفه"]}
          - {name: دو, kind: other, terms: *t}
        """), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("feeds:\n  - name: a\n    url: [unclosed\n", encoding="utf-8")
    results = {}
    for libyaml in (True, False):
        if not libyaml:
            monkeypatch.setattr(yaml, "CSafeLoader", None)
        with pytest.raises(ConfigError) as error:
            load_config(str(bad))
        results[libyaml] = (load_config(str(REPO_CONFIG)), load_config(str(merged)), str(error.value))
    assert results[True] == results[False]
    assert ":3" in results[True][2] or "line 3" in results[True][2]


# --------------------------------------------------------------------------- corpus paths (issue 12, point 17)


def test_a_corpus_path_that_does_not_exist_is_an_error_naming_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "one.txt").write_text("عنوان\nمتن", encoding="utf-8")
    assert load_config(write(tmp_path, "feeds: []\ncorpus: [seeds, one.txt]\n")).corpus == (
        str(tmp_path / "seeds"), str(tmp_path / "one.txt"))
    err = load_error(tmp_path, "feeds: []\ncorpus:\n  - sedes\n  - seeds\n")
    assert_error(err, 3, "corpus[0]", "sedes", "does not exist")
    err = load_error(tmp_path, "feeds: []\ncorpus:\n  - seeds\n  - ~/no/such/corpus\n")
    assert_error(err, 4, "corpus[1]", "does not exist")
    err = load_error(tmp_path, "feeds: []\n\ncorpus: seedz\n")  # a single path, not a list
    assert_error(err, 3, "corpus", "seedz", "does not exist")


def test_a_corpus_path_that_is_neither_folder_nor_file_is_an_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert_error(load_error(tmp_path, "feeds: []\ncorpus: [pipe]\n"), 2, "corpus[0]", "neither a folder nor a file")
