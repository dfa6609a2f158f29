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
    from .services.clock import local_today, parse_iso_date

    if not value:
        return local_today(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    try:
        return parse_iso_date(value)
    except ValueError as exc:
        raise CommandError(f"--today {exc}") from None


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
@click.option("--if-empty", is_flag=True, help="数据库中已有计划时不做任何事")
@click.option("--demo-progress", is_flag=True, help="同时生成演示用的进展报送与审核记录（截至 --today）")
@click.option("--today", "today_text", default=None, help="演示数据的截止日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def seed_command(reset: bool, seed_dir: Path | None, no_demo_users: bool, if_empty: bool,
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
        result = seed(directory, reset=reset, demo_users=not no_demo_users)
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
@with_appcontext
def create_token_command(username: str) -> None:
    """Print a new API bearer token for USERNAME."""
    from .services.users import create_token, get_user_by_name

    try:
        user = get_user_by_name(username)
        if not user.active:
            raise Invalid({"username": [f"用户 {username} 已停用"]})
        token = create_token(user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise fail_from(exc) from None
    click.echo(token)


COMMANDS = [init_db_command, seed_command, create_user_command, create_token_command]


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
    """Run the scheduler process (daily sweep and mail retries) until Ctrl-C."""
    import logging

    from .scheduler import build_scheduler, catch_up_job

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        scheduler = build_scheduler(app)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if not no_catch_up:
        catch_up_job(app)
    click.echo(f"调度器已启动：每日 {app.config.get('SCHEDULER_TIME')}（{app.config['TIMEZONE']}）执行逾期检查与提醒，"
               f"每 {app.config.get('SCHEDULER_DELIVERY_MINUTES')} 分钟重试投递。按 Ctrl-C 停止。")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    click.echo("调度器已停止。")


COMMANDS += [check_overdue_command, send_reminders_command, run_scheduler_command]
@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="覆盖已存在的目标文件")
@with_appcontext
def backup_command(dest: Path, force: bool) -> None:
    """Copy the embedded SQLite database to DEST while the app runs (online backup).

    DEST may be a directory: the copy is then named tracker-YYYYMMDD-HHMMSS.db.
    For PostgreSQL use pg_dump (see docs/deploy.md).
    """
    from .services.backup import BackupError, backup_database

    try:
        target, size = backup_database(db.engine.url, dest, force=force)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"已备份到 {target}（{size / 1024 / 1024:.1f} MB）。")


COMMANDS.append(backup_command)


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


# --- Ledger export / plan import (issue 4) -----------------------------------

@click.command("export-ledger")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plan", "plan_id", type=int, default=None, help="计划编号（默认第一个计划）")
@click.option("--today", default=None, help="统计日期 YYYY-MM-DD（默认今天）")
@with_appcontext
def export_ledger_command(file: Path, plan_id: int | None, today: str | None) -> None:
    """Write the whole ledger of a plan to FILE.xlsx."""
    from .services.excel_export import export_plan_ledger

    day = parse_today(today)
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
@with_appcontext
def import_plan_command(file: Path, dry_run: bool, create_units: bool, title: str | None, replace: bool) -> None:
    """Import a plan from a ledger-layout FILE.xlsx (all or nothing)."""
    from .services.excel_import import import_plan_file

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CommandError(f"无法读取文件 {file}：{exc.strerror or exc}") from None
    report = import_plan_file(data, None, dry_run=dry_run, create_units=create_units, title=title,
                              replace=replace, filename=file.name)
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
