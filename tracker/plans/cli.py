"""``export-ledger`` and ``import-plan``: the ledger to and from Excel on the command line."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..console import CommandError, fail_from, parse_today
from ..errors import DomainError, Invalid


@click.command("export-ledger")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plan", "plan_text", default=None, help="计划编号（默认第一个计划）")
@click.option("--today", default=None, help="统计日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def export_ledger_command(file: Path, plan_text: str | None, today: str | None) -> None:
    """Write the whole ledger of a plan to FILE.xlsx."""
    from ..plans.excel_export import export_plan_ledger
    from ..validation import parse_id

    day = parse_today(today)
    try:
        plan_id = parse_id(plan_text, field="plan", label="--plan 计划编号")
    except Invalid as exc:
        raise fail_from(exc) from None
    if file.suffix.lower() != ".xlsx":
        raise CommandError("导出文件名应以 .xlsx 结尾")
    try:
        rows = export_plan_ledger(file, plan_id, day, current_app.config)
    except DomainError as exc:
        raise fail_from(exc) from None
    except OSError as exc:
        raise CommandError(f"无法写入文件 {file}：{exc.strerror or exc}") from None
    click.echo(f"已导出 {rows} 项具体举措到 {file}（统计日期 {day.isoformat()}）。")


@click.command("import-plan")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option("--create-units", is_flag=True, help="自动新建未知单位")
@click.option("--title", default=None, help="计划名称（默认取标题行）")
@click.option("--replace", is_flag=True, help="替换同名计划")
@click.option("--map", "maps", multiple=True, help="单位映射，如 各有关单位=区司法局、区财政局（可多次）")
@with_appcontext
def import_plan_command(file: Path, dry_run: bool, create_units: bool, title: str | None, replace: bool,
                        maps: tuple[str, ...]) -> None:
    """Import a plan from a ledger-layout FILE.xlsx (all or nothing)."""
    from ..errors import Invalid
    from ..plans.excel_import import import_plan_file
    from ..plans.unit_groups import parse_mapping

    try:
        mapping = parse_mapping("\n".join(maps))
    except Invalid as exc:
        raise CommandError(exc.errors["mapping"][0]) from None

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CommandError(f"无法读取文件 {file}：{exc.strerror or exc}") from None
    report = import_plan_file(data, None, dry_run=dry_run, create_units=create_units, title=title,
                              replace=replace, filename=file.name, mapping=mapping)
    if len(report.problems) == 1:
        raise CommandError(f"{report.problems[0]}（未写入任何数据）")
    if report.problems:
        for p in report.problems:
            click.echo(f"  - {p}", err=True)
        raise CommandError(f"共 {len(report.problems)} 处错误，未写入任何数据")
    if dry_run:
        click.echo(f"检查通过（未写入）：计划“{report.title}”，{report.counts}。")
    else:
        click.echo(f"已导入计划“{report.title}”（编号 {report.plan_id}），{report.counts}"
                   + (f"；新建单位 {len(report.created_units)} 个" if report.created_units else "") + "。")
