"""Which destinations a flagged item is queued for: pure, so the writer can call it inside its transaction."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from monitor.models import NotifySpec


def _field(match: Any, name: str) -> str:
    return match[name] if isinstance(match, dict) else getattr(match, name)


def wants(spec: NotifySpec, matches: Iterable[Any]) -> bool:
    """Whether any of an item's matches is one the destination asked for (`watch:` and `kind:`; none: all)."""
    for m in matches:
        if spec.watch and _field(m, "watch") not in spec.watch:
            continue
        if spec.kind and _field(m, "kind") not in spec.kind:
            continue
        return True
    return False


def outbox_rows(destinations: Sequence[NotifySpec], item_id: int, matches: Sequence[Any]) -> list[tuple[str, int, str]]:
    """(destination, item id, mode) for each destination that wants an item with these matches."""
    if not matches:
        return []
    return [(spec.name, item_id, spec.mode) for spec in destinations if wants(spec, matches)]


def relevant(spec: NotifySpec, matches: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The matches a destination is shown: those it routes on (all, when it routes on every entry)."""
    return [m for m in matches if (not spec.watch or m["watch"] in spec.watch)
            and (not spec.kind or m["kind"] in spec.kind)] or list(matches)


__all__ = ["outbox_rows", "relevant", "wants"]
