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
@with_appcontext
def seed_command(reset: bool, seed_dir: Path | None, no_demo_users: bool, if_empty: bool) -> None:
    """Load the reference units, plan and demo users (idempotent)."""
    from .services.seed import SEED_DIR, counts, seed

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
