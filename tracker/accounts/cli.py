"""``create-user`` and ``create-token``: accounts from the command line."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..console import fail_from
from ..errors import DomainError, Invalid
from ..extensions import db


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="admin | supervisor | unit | viewer")
@click.option("--unit", default=None, help="所属单位（全称或简称），unit 角色必填")
@click.option("--email", default="", help="邮箱")
@click.option("--name", "display_name", default="", help="显示名称")
@with_appcontext
def create_user_command(username: str, role: str, unit: str | None, email: str, display_name: str) -> None:
    """Create a user; the password is read from stdin (or prompted)."""
    from ..accounts.users import create_user

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
    from ..accounts.tokens import parse_expires_days
    from ..accounts.users import create_token, get_user_by_name

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
