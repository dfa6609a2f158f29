"""``check-overdue``: the daily overdue flags on the command line (``--today`` replays a day)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..console import job_failed, parse_today


@click.command("check-overdue")
@click.option("--today", "today_text", default=None, help="统计日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def check_overdue_command(today_text: str | None) -> None:
    """Flag measures that became overdue and clear finished ones."""
    from ..supervision.overdue import check_overdue

    today = parse_today(today_text)
    try:
        result = check_overdue(today)
    except Exception as exc:
        raise job_failed("逾期检查", exc) from None
    click.echo(f"{today.isoformat()} 逾期检查：{result}")
