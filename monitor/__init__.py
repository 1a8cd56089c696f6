"""Persian news monitor: poll feeds, recognise known articles, flag watched names, keep it all in SQLite."""

__version__ = "0.1.0"
