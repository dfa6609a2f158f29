"""``flask --app wsgi report bulletin|annual|assessment``: the bureau's documents from the command line.

Stage lines go to stderr (a progress indication on big plans); the last line says what was written.
"""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..console import CommandError, fail_from, parse_today
from ..errors import DomainError

PLAN_OPTION = click.option("--plan", "plan_id", type=int, default=None, help="计划编号（默认第一个计划）")
TODAY_OPTION = click.option("--today", "today_text", default=None, help="统计日期 YYYY-MM-DD（默认今天）")


class Stages:
    def __init__(self, quiet: bool):
        self.quiet, self.start = quiet, time.perf_counter()

    def __call__(self, text: str) -> None:
        if not self.quiet:
            click.echo(f"[{time.perf_counter() - self.start:6.1f}s] {text}…", err=True)


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"无法写入文件 {out}：{exc.strerror or exc}") from None


def _check_suffix(out: Path, suffix: str) -> None:
    if out.suffix.lower() != suffix:
        raise CommandError(f"输出文件名应以 {suffix} 结尾：{out}")


@click.group("report")
def report_group() -> None:
    """The bureau's documents: monthly bulletin, annual report draft, assessment."""


@report_group.command("bulletin")
@click.option("--month", required=True, help="月份 YYYY-MM")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@PLAN_OPTION
@TODAY_OPTION
@click.option("--quiet", is_flag=True, help="不显示进度")
@with_appcontext
def bulletin_command(month: str, out: Path, plan_id: int | None, today_text: str | None, quiet: bool) -> None:
    """Write the monthly bulletin (工作通报) of MONTH to OUT.docx."""
    from .generate import bulletin_file, month_of
    from .service import resolve

    _check_suffix(out, ".docx")
    today = parse_today(today_text)
    try:
        month_of(month, "month")
        plan, period = resolve(plan_id, month, "month")
        number, data = bulletin_file(plan, period, today, progress=Stages(quiet))
    except DomainError as exc:
        raise fail_from(exc) from None
    _write(out, data)
    click.echo(f"已生成{period.title}工作通报（{period.start.year}年第{number}期）：{out}")


@report_group.command("annual")
@click.option("--year", required=True, help="年份 YYYY")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@PLAN_OPTION
@TODAY_OPTION
@click.option("--quiet", is_flag=True, help="不显示进度")
@with_appcontext
def annual_command(year: str, out: Path, plan_id: int | None, today_text: str | None, quiet: bool) -> None:
    """Write the annual report draft of YEAR to OUT.docx."""
    from .generate import annual_file, year_period
    from .service import resolve

    _check_suffix(out, ".docx")
    today = parse_today(today_text)
    try:
        year_period(year, "year")
        plan, period = resolve(plan_id, year, "year")
        data = annual_file(plan, period, today, progress=Stages(quiet))
    except DomainError as exc:
        raise fail_from(exc) from None
    _write(out, data)
    click.echo(f"已生成{period.title}度工作情况报告（草稿）：{out}")


@report_group.command("assessment")
@click.option("--period", "period_text", required=True, help="月 YYYY-MM、季度 YYYYQn 或年 YYYY")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@PLAN_OPTION
@TODAY_OPTION
@click.option("--quiet", is_flag=True, help="不显示进度")
@with_appcontext
def assessment_command(period_text: str, out: Path, plan_id: int | None, today_text: str | None, quiet: bool) -> None:
    """Write the assessment (考核) of PERIOD to OUT.xlsx."""
    from .generate import assessment_file
    from .service import resolve

    _check_suffix(out, ".xlsx")
    today = parse_today(today_text)
    try:
        plan, period = resolve(plan_id, period_text)
        data = assessment_file(plan, period, today, progress=Stages(quiet))
    except DomainError as exc:
        raise fail_from(exc) from None
    _write(out, data)
    click.echo(f"已导出{period.title}考核情况：{out}")
