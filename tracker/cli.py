"""Flask CLI commands (``flask --app wsgi COMMAND``), SPEC section 3.

Each command prints one clear line and exits non-zero on bad input.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .extensions import db
from .services.errors import DomainError, Invalid


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
    from .services.clock import local_today
    from .validation import parse_date

    if not value:
        return local_today(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    try:
        return parse_date(value, field="today", label="--today 日期")
    except Invalid as exc:
        raise fail_from(exc) from None


def upgrade_database() -> None:
    """Apply Alembic migrations (Flask-Migrate) up to head."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    try:
        upgrade_database()
    except Exception as exc:  # connection errors and the like
        raise CommandError(f"数据库初始化失败：{str(exc).splitlines()[0]}") from None
    click.echo("数据库已就绪（迁移已应用）。")


@click.command("seed")
@click.option("--reset", is_flag=True, help="清空所有数据后重新载入")
@click.option("--dir", "seed_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="种子数据目录（默认 seed/）")
@click.option("--no-demo-users", is_flag=True, help="不创建演示账号")
@click.option("--no-unit-emails", is_flag=True, help="新建单位不带示例联络员邮箱（生产环境用，否则调度器会给示例地址发信）")
@click.option("--if-empty", is_flag=True, help="数据库中已有计划时不做任何事")
@click.option("--demo-progress", is_flag=True, help="同时生成演示用的进展报送与审核记录（截至 --today）")
@click.option("--today", "today_text", default=None, help="演示数据的截止日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def seed_command(reset: bool, seed_dir: Path | None, no_demo_users: bool, no_unit_emails: bool, if_empty: bool,
                 demo_progress: bool, today_text: str | None) -> None:
    """Load the reference units, plan and demo users (idempotent)."""
    from .services.seed import SEED_DIR, counts, seed

    demo_today = parse_today(today_text) if demo_progress else None
    if if_empty and not reset and counts()["plans"]:
        click.echo("数据库中已有计划，跳过载入参考数据。")
        return

    directory = seed_dir or SEED_DIR
    if not directory.is_dir():
        raise CommandError(f"种子数据目录不存在：{directory}")
    try:
        result = seed(directory, reset=reset, demo_users=not no_demo_users, unit_emails=not no_unit_emails)
    except DomainError as exc:
        raise fail_from(exc) from None
    if demo_progress:
        from .services import demo

        written = demo.generate(demo_today)
        click.echo(f"演示进展数据：新增 {written} 条报送。" if written else "已有进展报送，未生成演示数据。")
    c = counts()
    click.echo(f"{result}。现有：计划 {c['plans']}，单位 {c['units']}，任务 {c['tasks']}（具体举措 {c['measures']}），用户 {c['users']}。")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="admin | supervisor | unit | viewer")
@click.option("--unit", default=None, help="所属单位（全称或简称），unit 角色必填")
@click.option("--email", default="", help="邮箱")
@click.option("--name", "display_name", default="", help="显示名称")
@with_appcontext
def create_user_command(username: str, role: str, unit: str | None, email: str, display_name: str) -> None:
    """Create a user; the password is read from stdin (or prompted)."""
    from .services.users import create_user

    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(username, role, password, unit=unit, email=email, display_name=display_name)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise fail_from(exc) from None
    click.echo(f"已创建用户 {user.username}（{user.role_label}{'，' + user.unit.short_name if user.unit else ''}）。")


@click.command("create-token")
@click.argument("username")
@click.option("--expires-days", "expires_days", default=None, help="有效天数（1–3650；默认长期有效）")
@with_appcontext
def create_token_command(username: str, expires_days: str | None) -> None:
    """Print a new API bearer token for USERNAME (optionally expiring after N days)."""
    from .accounts.tokens import parse_expires_days
    from .services.users import create_token, get_user_by_name

    try:
        days = parse_expires_days(expires_days)
        user = get_user_by_name(username)
        if not user.active:
            raise Invalid({"username": [f"用户 {username} 已停用"]})
        token = create_token(user, expires_days=days)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise fail_from(exc) from None
    click.echo(token)


@click.command("bump-revision")
@with_appcontext
def bump_revision_command() -> None:
    """Mark the plan data as changed, so every read cache rebuilds (after SQL run outside the app)."""
    from .services.revision import bump_revision

    revision = bump_revision(db.session)
    db.session.commit()
    if revision is None:
        click.echo("尚无数据版本记录，读缓存未启用，无需刷新。")
    else:
        click.echo(f"数据版本已更新为 {revision}，各进程的读缓存将在下一次请求时重建。")


COMMANDS = [init_db_command, seed_command, create_user_command, create_token_command, bump_revision_command]


# --- scheduler: overdue flags, reminders, the scheduler process ----------------------------------

@click.command("check-overdue")
@click.option("--today", "today_text", default=None, help="统计日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def check_overdue_command(today_text: str | None) -> None:
    """Flag measures that became overdue and clear finished ones."""
    from .services.overdue import check_overdue

    today = parse_today(today_text)
    try:
        result = check_overdue(today)
    except Exception as exc:
        db.session.rollback()
        raise CommandError(f"逾期检查失败：{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    click.echo(f"{today.isoformat()} 逾期检查：{result}")


@click.command("send-reminders")
@click.option("--today", "today_text", default=None, help="提醒日期 YYYY-MM-DD（默认今天）")
@click.option("--no-deliver", is_flag=True, help="只写入发件箱，不投递")
@with_appcontext
def send_reminders_command(today_text: str | None, no_deliver: bool) -> None:
    """Build the day's reminder emails and digest into the outbox, then deliver queued mail."""
    from .models import utcnow
    from .services.reminders import send_reminders

    today = parse_today(today_text)
    try:
        result = send_reminders(today, utcnow(), deliver=not no_deliver)
    except Exception as exc:
        db.session.rollback()
        raise CommandError(f"发送提醒失败：{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    click.echo(str(result))
    if result.delivery is not None:
        for line in result.delivery.errors[:20]:
            click.echo(f"  - {line}", err=True)
    if result.errors:
        for line in result.errors:
            click.echo(f"  - {line}", err=True)
        raise CommandError(f"{len(result.errors)} 封邮件未能生成，详见上方说明")


@click.command("run-scheduler")
@click.option("--no-catch-up", is_flag=True, help="启动时不补跑错过的日期")
@with_appcontext
def run_scheduler_command(no_catch_up: bool) -> None:
    """Run the scheduler process (daily sweep, mail retries, heartbeat) until SIGTERM or Ctrl-C.

    Exits non-zero with one line when the database cannot be reached at start.
    """
    import logging
    import os
    import socket

    from .models import utcnow
    from .scheduler import (Process, SchedulerStartError, attach_heartbeat, build_scheduler, catch_up_job,
                            install_stop_signals, log_next_run)

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("tracker.scheduler")
    try:
        process = Process(app, build_scheduler(app))
        process.start(socket.gethostname(), os.getpid(), utcnow())
    except (ValueError, SchedulerStartError) as exc:
        raise CommandError(str(exc)) from None
    attach_heartbeat(process)
    install_stop_signals(process)
    if not no_catch_up:
        catch_up_job(app)
    click.echo(f"调度器已启动：每日 {app.config.get('SCHEDULER_TIME')}（{app.config['TIMEZONE']}）执行逾期检查与提醒，"
               f"每 {app.config.get('SCHEDULER_DELIVERY_MINUTES')} 分钟重试投递，每分钟写入心跳。")
    log_next_run(process)
    try:
        process.scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        process.stopped_by = process.stopped_by or "SIGINT"
    process.stop(utcnow())
    line = f"调度器已停止（{process.stopped_by or '退出'}）。"
    log.info("%s", line)
    click.echo(line)
    if process.exit_code:
        raise CommandError("调度器因数据库不可用而退出")


COMMANDS += [check_overdue_command, send_reminders_command, run_scheduler_command]



def register(app: Flask) -> None:
    from .documents.cli import report_group
    from .operations.cli import COMMANDS as OPERATIONS
    from .reporting.evidence_store import move_evidence_command

    for command in COMMANDS + OPERATIONS + [report_group, move_evidence_command]:
        app.cli.add_command(command)


# --- Ledger export / plan import (issue 4) -----------------------------------

@click.command("export-ledger")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plan", "plan_text", default=None, help="计划编号（默认第一个计划）")
@click.option("--today", default=None, help="统计日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def export_ledger_command(file: Path, plan_text: str | None, today: str | None) -> None:
    """Write the whole ledger of a plan to FILE.xlsx."""
    from .services.excel_export import export_plan_ledger
    from .validation import parse_id

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
    from .services.errors import Invalid
    from .services.excel_import import import_plan_file
    from .services.unit_groups import parse_mapping

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


COMMANDS += [export_ledger_command, import_plan_command]


# --- Group-robot webhooks (issue 12) -----------------------------------------
from .notify.cli import COMMANDS as _WEBHOOK_COMMANDS  # noqa: E402

COMMANDS.extend(_WEBHOOK_COMMANDS)
