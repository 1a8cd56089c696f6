"""Load and validate config.yaml into a frozen monitor.models.Config.

Why it looks the way it does:

* The YAML is *composed* (SafeLoader), not loaded, so every value keeps its node and
  every error can name the 1-based line and the key path (`feeds[2].url`). Scalars are
  built with PyYAML's SafeConstructor; any tag outside the safe set (`!!python/object`,
  `!custom`) is rejected before anything is built.
* The schema is a set of tables (`TOP_LEVEL`, `_HTTP`, `_FEED`, ... in sections.py). Each entry maps a
  YAML key to a converter and names the dataclass field it fills, so a new key such as
  `report:` or `log:` is one table entry (plus its field on Config).
* Unknown keys are errors at every level, with the allowed keys and the closest match.
  Duplicate keys, which YAML silently lets the last one win, are errors too.
* `load_config` is pure: it reads, checks everything, and only then returns a new
  Config. The daemon calls it again on every change of the file; a bad edit raises
  ConfigError and the old Config stays in use, never a half-applied one.
* A key set to null (`watch:` with every entry commented out) means "use the default";
  required keys still have to have a real value.

The package's rooms, each read on its own: load.py (the file, YAML nodes with their lines, the error context),
convert.py (converters of single values), sections.py (the field table of every section); this module is the
public face.
"""

from __future__ import annotations

import os
import re

import yaml
from yaml.nodes import MappingNode, Node

from monitor.config.convert import DATABASE_URL_PREFIXES, FEED_NAME, database_location
from monitor.config.load import MAP, NULL, Context, compose, describe, mapping, pairs, read_text, reject_unsafe_tags
from monitor.config.sections import TOP_LEVEL, check_notify_watch
from monitor.errors import ConfigError
from monitor.models import Config
from monitor.units import parse_duration, parse_size

__all__ = ["DATABASE_URL_ENV", "load_config", "database_of", "parse_duration", "parse_size", "DEFAULT_DATABASE", "FEED_NAME", "Config"]

DEFAULT_DATABASE = "state/monitor.db"
# A database URL in the environment wins over the config's `database:` (a password stays out of the file, and
# several machines share one config): postgresql://user@host/db.
DATABASE_URL_ENV = "MONITOR_DATABASE_URL"


# --------------------------------------------------------------------------- public API


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, parse and validate the config file; raise ConfigError (never anything else) if it is bad."""
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    ctx = Context(file=shown, base=os.path.dirname(absolute))
    root = compose(ctx, read_text(ctx, absolute))
    reject_unsafe_tags(ctx, root)
    if not isinstance(root, MappingNode) or root.tag != MAP:
        ctx.fail(root, "", f"the top level must be a mapping of keys (database:, feeds:, ...), not {describe(root)}")
    try:
        values = mapping(ctx, root, "", TOP_LEVEL)
    except RecursionError:  # a pathological chain of merges; the composer guards plain nesting
        raise ConfigError("the YAML is nested too deeply", path=ctx.file) from None
    values.setdefault("database", ctx.resolve(DEFAULT_DATABASE))
    if os.environ.get(DATABASE_URL_ENV):
        values["database"] = os.environ[DATABASE_URL_ENV]
    values.setdefault("corpus", ())
    values.setdefault("watch", ())
    check_notify_watch(ctx, root, values)
    return Config(path=absolute, **values)


def database_of(path: str | os.PathLike[str]) -> str | None:
    """The database a config file names, read on its own from a file that may be invalid elsewhere; None when
    the file cannot be read or its `database:` cannot be made out.

    Why: read-only commands that need only the database (`monitor status`, `monitor items`) still answer while
    an invalid edit waits to be fixed (the running daemon keeps its last valid config meanwhile). The value is
    resolved exactly as load_config resolves it; YAML that does not parse is searched for its one top-level
    `database:` line."""
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    shown = os.fspath(path)
    absolute = os.path.abspath(shown)
    ctx = Context(file=shown, base=os.path.dirname(absolute))
    try:
        text = read_text(ctx, absolute)
    except ConfigError:
        return None
    try:
        root: Node | None = compose(ctx, text)
        keys = pairs(ctx, root, "") if isinstance(root, MappingNode) and root.tag == MAP else None
    except (ConfigError, RecursionError):
        keys = None
    if keys is not None:
        found = keys.get("database")
        if found is None or found[1].tag == NULL:
            return ctx.resolve(DEFAULT_DATABASE)
        try:
            return database_location(ctx, found[1], "database")
        except ConfigError:
            return None
    lines = re.findall(r"^database:[ \t]*(\S.*?)[ \t]*$", text, re.M)
    if len(lines) != 1:
        return None
    try:
        value = yaml.safe_load(lines[0])
    except yaml.YAMLError:
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip() if value.strip().startswith(DATABASE_URL_PREFIXES) else ctx.resolve(value.strip())
