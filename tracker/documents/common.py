"""Shared pieces of the bulletin and the annual report: dates, tree paths, unit names."""
from __future__ import annotations

from datetime import date
from typing import Optional

from ..models import LEAD


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def path_codes(tasks: list) -> dict[int, str]:
    """Each task's traceable code: its ancestors' codes and its own, e.g. ``三（二）4``."""
    by_id = {t.id: t for t in tasks}
    result: dict[int, str] = {}

    def code(task) -> str:
        if task.id in result:
            return result[task.id]
        parent = by_id.get(task.parent_id) if task.parent_id else None
        own = (task.code or str(task.position + 1)).strip()
        result[task.id] = (code(parent) if parent else "") + own
        return result[task.id]

    for task in tasks:
        code(task)
    return result


def root_of(tasks: list) -> dict[int, int]:
    by_id = {t.id: t for t in tasks}
    roots: dict[int, int] = {}
    for task in tasks:
        node, hops = task, 0
        while node.parent_id is not None and node.parent_id in by_id and hops < 50:
            node, hops = by_id[node.parent_id], hops + 1
        roots[task.id] = node.id
    return roots


def tree_sorted(tasks: list) -> list:
    """Tasks in plan order (depth first by position)."""
    children: dict[Optional[int], list] = {}
    for task in tasks:
        children.setdefault(task.parent_id, []).append(task)
    for group in children.values():
        group.sort(key=lambda t: (t.position, t.id))
    ordered: list = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        task = stack.pop()
        ordered.append(task)
        stack.extend(reversed(children.get(task.id, [])))
    return ordered


def lead_names(task) -> list[str]:
    return [link.unit.name for link in task.unit_links if link.role == LEAD]


def change(now: int | float, before: int | float, unit: str = "项") -> str:
    diff = now - before
    if abs(diff) < 1e-9:
        return "持平"
    amount = f"{abs(diff):g}" if isinstance(diff, float) else str(abs(diff))
    return f"{'增加' if diff > 0 else '减少'}{amount}{unit}"
