"""Bad config files and bad command-line values: always exit 2 with a one-line message, never a traceback.

Property-based (hypothesis): random bytes, random text, random YAML structures and mutations of the shipped
config.yaml go through the real CLI in-process (click's CliRunner, for speed); a mutation may happen to stay
valid, so the property is "exit 0, or exit 2 with `error: <file>...`", and never any other exception. Bad
`--since` values and unknown feed or watch names likewise. A few cases also run as real subprocesses.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO, run_cli
from monitor.cli import main

SHIPPED = (REPO / "config.yaml").read_text(encoding="utf-8")
WORKDIR = Path(tempfile.mkdtemp(prefix="monitor-fuzz-"))  # not tmp_path: hypothesis reruns one test many times
atexit.register(shutil.rmtree, WORKDIR, True)
_counter = itertools.count()
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    # Anything but SystemExit escaping the command is a traceback a user would have seen.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__} escaped: {result.exception!r}\n{result.output}")
    return result


def check_config(data: bytes) -> int:
    path = WORKDIR / f"config-{next(_counter)}.yaml"
    path.write_bytes(data)
    result = invoke("feeds", "--config", str(path), "--format", "json")
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    if result.exit_code == 2:
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert lines and lines[0].startswith(f"error: {path}"), result.output
        assert "Traceback" not in result.output
    path.unlink()
    return result.exit_code


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data):
    check_config(data)


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text):
    check_config(text.encode("utf-8", "surrogatepass"))


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))


def _nest(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)


yaml_values = st.recursive(yaml_scalars, _nest, max_leaves=12)
top_keys = st.sampled_from(["database", "corpus", "schedule", "http", "dedup", "feeds", "watch", "report", "x"])


@FUZZ
@given(st.dictionaries(top_keys, yaml_values, max_size=6))
def test_random_yaml_structures(raw):
    check_config(yaml.safe_dump(raw, allow_unicode=True).encode("utf-8"))


def mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "value", "chars", "swap"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        elif op == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            value = data.draw(st.one_of(st.sampled_from(
                ["", "-1", "0", "1e999", "[]", "{}", "!!python/object:os.system x", "*x", "&a b", "'", "\"",
                 "10 parsecs", "http://", "ftp://x", "~", "yes", "2025-13-45", "<<: *a"]), st.text(max_size=10)))
            lines[i] = f"{key}: {value}\n"
        elif op == "chars":
            j = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + data.draw(st.text(max_size=4)) + lines[i][j:]
        elif op == "swap" and len(lines) > 1:
            k = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
    return "".join(lines)


@FUZZ
@given(st.data())
def test_mutated_shipped_config(data):
    text = mutate(SHIPPED.replace("database: ", f"database: {WORKDIR}/never-created-", 1), data)
    check_config(text.encode("utf-8", "surrogatepass"))


# ------------------------------------------------------------------------------------------ command-line values
@pytest.fixture(scope="module")
def valid_config(tmp_path_factory) -> Path:
    raw = yaml.safe_load(SHIPPED)
    raw["database"] = str(tmp_path_factory.mktemp("db") / "none.db")
    raw["corpus"] = []
    path = tmp_path_factory.mktemp("cfg") / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=30).filter(lambda s: not s.startswith("-")))
def test_random_since_is_accepted_or_exit_2(valid_config, since):
    for command in ("items", "report"):
        result = invoke(command, "--config", str(valid_config), "--since", since, "--format", "json")
        assert result.exit_code in (0, 2), (command, since, result.exit_code, result.output)
        if result.exit_code == 2:
            assert "--since" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("since", ["yesterday-ish", "24x", "1404-13-40", "2025-02-30", "99999999d", "-5h", "۲۴ ساعت"])
def test_bad_since_values(valid_config, since):
    result = invoke("items", "--config", str(valid_config), "--since", since)
    assert result.exit_code == 2 and result.output.startswith("error: --since"), result.output


@pytest.mark.parametrize("args, words", [
    (["poll", "--feed", "no-such-feed"], "--feed: no feed named 'no-such-feed'"),
    (["report", "--watch", "Nobody"], "--watch: no watch entry named 'Nobody'"),
    (["report", "--feed", "no-such-feed"], "--feed: no feed named 'no-such-feed'"),
])
def test_unknown_feed_or_watch_names(valid_config, args, words):
    result = invoke(*args, "--config", str(valid_config))
    assert result.exit_code == 2 and words in result.output, result.output


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"feeds: [", b"feeds:\n  - {name: a, url: ftp://x}\n",
                                     b"!!python/object/apply:os.system ['echo pwned']"])
def test_bad_config_in_a_real_subprocess(tmp_path, content):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    proc = run_cli("feeds", "--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "pwned" not in proc.stdout


def test_bad_since_and_unknown_feed_in_a_real_subprocess(valid_config):
    proc = run_cli("items", "--config", str(valid_config), "--since", "last tuesday")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --since") and "Traceback" not in proc.stderr
    proc = run_cli("poll", "--config", str(valid_config), "--feed", "nope")
    assert proc.returncode == 2 and "no feed named 'nope'" in proc.stderr and "Traceback" not in proc.stderr
