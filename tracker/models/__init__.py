"""Typed SQLAlchemy 2.0 models (SPEC section 2), one module per topic:

- ``plan``: plans, tasks, their periods and unit links, units and unit groups;
- ``people``: users, API tokens, login sessions, failed logins, the audit log;
- ``journal``: progress reports, evidence files, reviews, task events, deadline extensions;
- ``notices``: the outbox, group robots (webhooks), to-do read marks;
- ``ops``: the daily sweeps' runs and the plan data's revision.

Timestamps are naive UTC (``utcnow``, tracker/clock.py); dates (deadlines, ``today``) are local
calendar dates in the configured time zone. Every name is importable from ``tracker.models``, and
importing it registers every table (Alembic's autogenerate and ``db.create_all`` see them all);
the documents' and the scheduler's own tables live in their packages (``documents/models.py``,
``operations/models.py``).
"""
from __future__ import annotations

from ..clock import utcnow
from .documents import AssessmentRules, BulletinIssue
from .journal import Attachment, DeadlineExtension, EvidenceBlob, ProgressUpdate, Review, TaskEvent
from .notices import Notification, TodoRead, Webhook
from .ops import DataRevision, JobRun, SchedulerHeartbeat
from .people import ApiToken, AuditLog, LoginAttempt, User, UserSession
from .plan import (
    CO,
    GROUP_RULES,
    LEAD,
    UNIT_KINDS,
    Plan,
    Task,
    TaskPeriod,
    TaskReading,
    TaskUnit,
    Unit,
    UnitGroup,
    UnitGroupMember,
    UnitReading,
)

__all__ = [
    "utcnow",
    "UNIT_KINDS", "LEAD", "CO", "GROUP_RULES",
    "Plan", "UnitReading", "Unit", "UnitGroup", "UnitGroupMember", "TaskReading", "Task", "TaskPeriod", "TaskUnit",
    "User", "ApiToken", "UserSession", "LoginAttempt", "AuditLog",
    "ProgressUpdate", "Attachment", "EvidenceBlob", "Review", "TaskEvent", "DeadlineExtension",
    "Notification", "Webhook", "TodoRead",
    "JobRun", "DataRevision", "SchedulerHeartbeat", "AssessmentRules", "BulletinIssue",
]
