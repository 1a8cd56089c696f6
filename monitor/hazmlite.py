"""hazm's Normalizer without the rest of hazm, for its character-level steps (monitor.text.display).

`import hazm` runs hazm/__init__.py, which imports every tagger, parser and embedding hazm has, and with them
nltk, scikit-learn, scipy and gensim: about 310 MB and 2 s on this project's machines, for a Normalizer that
needs none of them. The Normalizer's own modules (utils, stemmer, word_tokenizer, lemmatizer, normalizer) need
only flashtext and two abstract base classes from nltk (TokenizerI, StemmerI), whose methods the Normalizer never
calls. So this module executes exactly those five files of the installed hazm, under a stand-in `hazm` package
and stand-in `nltk.tokenize.api` / `nltk.stem.api` modules that exist only while they load.

Only the character-level steps are built (char_normalizer): they need none of hazm's word lists, so the
Normalizer builds in milliseconds. One change is made to the loaded code, and it does not change output:
`maketrans`, which normalize() calls twice per call to build the same dicts, is cached. The result is otherwise
hazm's real code, not a copy: tests/test_hazmlite.py checks it normalises the seeds, the fixtures and the
spelling traps exactly as `from hazm import Normalizer` does, in a separate process. If hazm's layout ever
changes so that this fails, char_normalizer() falls back to the full import (slower and larger, still right).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
import types
from typing import Any

log = logging.getLogger("monitor.hazmlite")

# hazm's modules the Normalizer needs, in dependency order.
_MODULES = ("utils", "stemmer", "word_tokenizer", "lemmatizer", "normalizer")
_NLTK_STANDINS = ("nltk", "nltk.tokenize", "nltk.tokenize.api", "nltk.stem", "nltk.stem.api")


def char_normalizer() -> Any:
    """hazm's Normalizer with only its character-level steps: Arabic letters and presentation forms to Persian
    ones, Persian digits, diacritics and special marks removed, ligature words written out. These need none of
    hazm's word lists, so it builds in milliseconds and holds almost no memory; every step maps characters one
    by one (monitor.text.display relies on that)."""
    options = dict(correct_spacing=False, persian_style=False, decrease_repeated_chars=False, seperate_mi=False)
    if "hazm" in sys.modules and hasattr(sys.modules["hazm"], "Normalizer"):
        return sys.modules["hazm"].Normalizer(**options)
    try:
        return _light_class()(**options)
    except Exception as exc:  # hazm changed its layout: the full import still gives the right answer
        log.warning("loading hazm's Normalizer alone failed (%s: %s); importing all of hazm", type(exc).__name__, exc)
        from hazm import Normalizer

        return Normalizer(**options)


def _light_class() -> type:
    spec = importlib.util.find_spec("hazm")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("hazm is not installed")
    saved = {name: mod for name, mod in sys.modules.items() if name == "hazm" or name.startswith("hazm.")}
    saved.update({name: sys.modules[name] for name in _NLTK_STANDINS if name in sys.modules})
    package = types.ModuleType("hazm")
    package.__path__ = list(spec.submodule_search_locations)
    added: list[str] = ["hazm"]
    try:
        sys.modules["hazm"] = package
        if "nltk.tokenize.api" not in saved:
            added += _install_nltk_standins()
        for name in _MODULES:
            module = importlib.import_module(f"hazm.{name}")
            added.append(f"hazm.{name}")
            # `from hazm import X` in the next module reads X off the package, as hazm/__init__ would provide
            package.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
        # normalize() rebuilds the same two 400-entry translation dicts on every call, a third of its time on
        # a title; they are only read (str.translate), so one cached copy each gives identical output.
        normalizer_module = sys.modules["hazm.normalizer"]
        normalizer_module.maketrans = functools.lru_cache(maxsize=8)(normalizer_module.maketrans)
        return package.Normalizer
    finally:
        # Leave sys.modules as found: a later `import hazm` (a test, a user's script) gets the real package.
        for name in added:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def _install_nltk_standins() -> list[str]:
    """Empty base classes under nltk's names: hazm subclasses them and calls none of their methods."""
    tokenize_api = types.ModuleType("nltk.tokenize.api")
    tokenize_api.TokenizerI = type("TokenizerI", (), {})
    stem_api = types.ModuleType("nltk.stem.api")
    stem_api.StemmerI = type("StemmerI", (), {})
    standins = {"nltk": types.ModuleType("nltk"), "nltk.tokenize": types.ModuleType("nltk.tokenize"),
                "nltk.tokenize.api": tokenize_api, "nltk.stem": types.ModuleType("nltk.stem"),
                "nltk.stem.api": stem_api}
    sys.modules.update(standins)
    return list(standins)
