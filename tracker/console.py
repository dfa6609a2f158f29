"""What every CLI command shares (SPEC section 3): one ``错误：`` line and a non-zero exit on bad
input, the ``--today`` option, and one way to report a job that failed."""
from __future__ import annotations

from datetime import date

import click
from flask import current_app

from .errors import DomainError, Invalid
from .extensions import db


class CommandError(click.ClickException):
    """One line on stderr, exit code 1."""

    def show(self, file=None) -> None:  # pragma: no cover - formatting only
        click.echo(f"错误：{self.format_message()}", err=True)


def fail_from(exc: DomainError) -> CommandError:
    if isinstance(exc, Invalid):
        msgs = [m for ms in exc.errors.values() for m in ms]
        if len(msgs) > 1:
            # Several problems: list them, then one summary line.
            for m in msgs:
                click.echo(f"  - {m}", err=True)
            return CommandError(f"共 {len(msgs)} 处错误，未写入任何数据")
        return CommandError(msgs[0] if msgs else exc.message)
    return CommandError(exc.message)


def parse_today(value: str | None) -> date:
    from .clock import local_today
    from .validation import parse_date

    if not value:
        return local_today(current_app.config["TIMEZONE"])
    try:
        return parse_date(value, field="today", label="--today 日期")
    except Invalid as exc:
        raise fail_from(exc) from None


def job_failed(what: str, exc: Exception) -> CommandError:
    """A job that raised: roll the session back and say so in one line (``逾期检查失败：…``)."""
    db.session.rollback()
    return CommandError(f"{what}失败：{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
