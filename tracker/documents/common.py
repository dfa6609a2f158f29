"""Shared pieces of the bulletin and the annual report: dates, tree paths, unit names."""
from __future__ import annotations

from datetime import date


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


def lead_names(task) -> list[str]:
    return [unit.name for unit in task.lead_units]


def change(now: int | float, before: int | float, unit: str = "项") -> str:
    diff = now - before
    if abs(diff) < 1e-9:
        return "持平"
    amount = f"{abs(diff):g}" if isinstance(diff, float) else str(abs(diff))
    return f"{'增加' if diff > 0 else '减少'}{amount}{unit}"
