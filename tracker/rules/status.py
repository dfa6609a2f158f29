"""Measure status values (SPEC 2.2) and their Chinese labels."""
from __future__ import annotations

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
PENDING_REVIEW = "pending_review"
DONE = "done"

STATUSES = (NOT_STARTED, IN_PROGRESS, PENDING_REVIEW, DONE)
# Measures still being worked on: they can be due soon and owe monthly reports.
OPEN_STATUSES = (NOT_STARTED, IN_PROGRESS)
STATUS_LABELS = {
    NOT_STARTED: "未启动",
    IN_PROGRESS: "推进中",
    PENDING_REVIEW: "待审核",
    DONE: "已完成",
}
ONGOING_LABEL = "持续推进"
LABEL_TO_STATUS = {label: key for key, label in STATUS_LABELS.items()}
LABEL_TO_STATUS[ONGOING_LABEL] = IN_PROGRESS

# What a unit may report: it may move between not started / in progress and claim
# completion; only a supervisor's review sets done.
UNIT_REPORTABLE = (NOT_STARTED, IN_PROGRESS, PENDING_REVIEW)


def status_label(status: str, ongoing: bool = False) -> str:
    if ongoing and status == IN_PROGRESS:
        return ONGOING_LABEL
    return STATUS_LABELS.get(status, status)


# A supervisor's decisions on a measure (SPEC 2, Review): 销号, 退回, 重新打开. The review use case and
# the task history both name them, so the labels live here, below both.
APPROVE, RETURN, REOPEN = "approve", "return", "reopen"
DECISIONS = (APPROVE, RETURN, REOPEN)
DECISION_LABELS = {APPROVE: "审核通过（销号）", RETURN: "退回", REOPEN: "重新打开"}
