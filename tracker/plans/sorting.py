"""Column sorting for the ledger (?sort=KEY&dir=asc|desc): pure functions over loaded rows."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Invalid

LIGHT_ORDER = {"red": 0, "yellow": 1, "green": 2, "done": 3}
STATUS_ORDER = {"not_started": 0, "in_progress": 1, "pending_review": 2, "done": 3}
LEDGER_SORTS = ("code", "deadline", "status", "progress", "light", "lead")


@dataclass(frozen=True)
class Sort:
    key: str = ""  # "" keeps plan order
    desc: bool = False


def parse_sort(args, allowed: tuple[str, ...]) -> Sort:
    key = (args.get("sort") or "").strip()
    direction = (args.get("dir") or "").strip()
    errors: dict[str, list[str]] = {}
    if key and key not in allowed:
        errors["sort"] = ["排序列无效"]
    if direction and direction not in ("asc", "desc"):
        errors["dir"] = ["排序方向应为 asc 或 desc"]
    if errors:
        raise Invalid(errors)
    return Sort(key if key != "code" else "", direction == "desc")


def code_key(code: str) -> tuple:
    """``3.10`` after ``3.9``: numeric parts compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-、]", code or ""))


def sort_measures(tasks: list, states: dict, sort: Sort) -> list:
    """``tasks`` (measures and their ancestors, tree order) with the measures reordered by ``sort``.

    Parents stay in the list; the ledger merges a parent's cells only over consecutive rows,
    so after sorting a group that is split shows its parent label again where it continues.
    """
    if not sort.key and not sort.desc:
        return tasks
    leaves = [t for t in tasks if t.is_leaf]
    others = [t for t in tasks if not t.is_leaf]
    keys = {
        "": lambda t: 0,
        "deadline": lambda t: (t.deadline is None, t.deadline.toordinal() if t.deadline else 0),
        "status": lambda t: STATUS_ORDER.get(t.status, 9),
        "progress": lambda t: states[t.id].percent,
        "light": lambda t: LIGHT_ORDER.get(states[t.id].light, 9),
        "lead": lambda t: "、".join(u.short_name for u in t.lead_units),
    }
    position = {t.id: i for i, t in enumerate(leaves)}
    ordered = sorted(leaves, key=lambda t: position[t.id])
    ordered.sort(key=keys[sort.key], reverse=sort.desc)
    return others + ordered
