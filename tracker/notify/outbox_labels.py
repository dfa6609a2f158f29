"""Outbox rows in words: the rule that made a message, instead of its technical dedupe key."""
from __future__ import annotations

import re

# (pattern of the dedupe key, description); the date is the day the rule ran.
RULES = [
    (re.compile(r"^urge:task:\d+:unit:\d+:(\d{4}-\d{2}-\d{2})(?::[\w-]+)*$"), "催办单项任务（每项任务每天最多一次）"),
    (re.compile(r"^urge:unit:\d+:(\d{4}-\d{2}-\d{2})(?::[\w-]+)*$"), "催办单位全部逾期任务（每个单位每天最多一次）"),
    (re.compile(r"^unit:\d+:daily:(\d{4}-\d{2}-\d{2})(?::[\w-]+)*$"), "单位每日提醒（每个单位每天最多一封）"),
    (re.compile(r"^bureau:digest:(\d{4}-\d{2}-\d{2})(?::[\w-]+)*$"), "督办日报（每天一封）"),
]


def rule_label(key: str) -> str:
    """``urge:unit:7:2024-07-01`` → ``催办单位全部逾期任务（…）· 2024-07-01``; unknown keys → 其他规则."""
    for pattern, label in RULES:
        match = pattern.match(key or "")
        if match:
            return f"{label} · {match.group(1)}"
    return "其他规则"
