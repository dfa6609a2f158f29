"""Helpers for the progress/review tests: find measures by unit role, tokens, versions."""
from __future__ import annotations

from sqlalchemy import select

from tracker.accounts.users import create_token, get_user_by_name
from tracker.extensions import db
from tracker.models import CO, LEAD, AuditLog, ProgressUpdate, Review, Task, TaskUnit, Unit, User


def unit_of(username: str) -> int:
    return get_user_by_name(username).unit_id


def measure(app, username: str, role: str = LEAD, *, status: str | None = None, not_of: str | None = None,
            deadline: str = "any") -> int:
    """Id of a leaf where ``username``'s unit has ``role`` (and ``not_of``'s unit has none)."""
    with app.app_context():
        unit_id = unit_of(username)
        other = unit_of(not_of) if not_of else None
        q = (select(Task).join(TaskUnit, TaskUnit.task_id == Task.id)
             .where(Task.is_leaf.is_(True), TaskUnit.unit_id == unit_id, TaskUnit.role == role)
             .order_by(Task.id))
        if status:
            q = q.where(Task.status == status)
        if deadline == "dated":
            q = q.where(Task.deadline.is_not(None))
        for task in db.session.execute(q).scalars():
            units = {link.unit_id for link in task.unit_links}
            if role == CO and any(l.unit_id == unit_id and l.role == LEAD for l in task.unit_links):
                continue
            if other is not None and other in units:
                continue
            return task.id
    raise AssertionError(f"no {role} measure for {username}")


def task_row(app, task_id: int) -> dict:
    with app.app_context():
        t = db.session.get(Task, task_id)
        return {"status": t.status, "progress": t.progress, "version": t.version, "latest": t.latest_progress,
                "claimed_on": t.claimed_on, "completed_on": t.completed_on, "completed_by_id": t.completed_by_id,
                "return_comment": t.return_comment, "period": t.last_report_period}


def set_task(app, task_id: int, **values) -> None:
    with app.app_context():
        t = db.session.get(Task, task_id)
        for k, v in values.items():
            setattr(t, k, v)
        t.version += 1
        db.session.commit()


def counts(app, task_id: int | None = None) -> dict:
    from sqlalchemy import func

    from tracker.models import Attachment

    with app.app_context():
        def n(model, col):
            q = select(func.count()).select_from(model)
            if task_id is not None:
                q = q.where(col == task_id)
            return db.session.scalar(q)

        return {"updates": n(ProgressUpdate, ProgressUpdate.task_id), "reviews": n(Review, Review.task_id),
                "attachments": n(Attachment, Attachment.task_id),
                "audit": db.session.scalar(select(func.count()).select_from(AuditLog))}


def token_for(app, username: str) -> dict:
    with app.app_context():
        token = create_token(get_user_by_name(username))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def report(client, task_id: int, version: int, *, status="in_progress", progress="40", narrative="按计划推进",
           query="", **extra):
    data = {"status": status, "progress": progress, "narrative": narrative, "problems": "", "next_steps": "",
            "version": str(version)}
    data.update(extra)
    return client.post(f"/tasks/{task_id}/updates{query}", data=data, content_type="multipart/form-data")


__all__ = ["measure", "task_row", "set_task", "counts", "token_for", "report", "LEAD", "CO", "User", "Unit"]
