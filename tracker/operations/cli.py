"""Operating commands: ``backup``, ``restore``, ``health`` (SPEC 6.7)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..console import CommandError, fail_from, parse_today
from ..errors import DomainError
from ..extensions import db


def _fail(message: str):
    return CommandError(message)


# --- setting up: schema, reference data, the read cache's revision ---------------------------------

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
    from ..operations.seed import SEED_DIR, counts, seed

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
        from ..operations import demo

        written = demo.generate(demo_today)
        click.echo(f"演示进展数据：新增 {written} 条报送。" if written else "已有进展报送，未生成演示数据。")
    c = counts()
    click.echo(f"{result}。现有：计划 {c['plans']}，单位 {c['units']}，任务 {c['tasks']}（具体举措 {c['measures']}），用户 {c['users']}。")


@click.command("bump-revision")
@with_appcontext
def bump_revision_command() -> None:
    """Mark the plan data as changed, so every read cache rebuilds (after SQL run outside the app)."""
    from ..cache.revision import bump_revision

    revision = bump_revision(db.session)
    db.session.commit()
    if revision is None:
        click.echo("尚无数据版本记录，读缓存未启用，无需刷新。")
    else:
        click.echo(f"数据版本已更新为 {revision}，各进程的读缓存将在下一次请求时重建。")


@click.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="覆盖已存在的目标文件")
@with_appcontext
def backup_command(dest: Path, force: bool) -> None:
    """Write ONE archive (.tar.gz) with every table, the evidence and mail files and a manifest.

    DEST may be a directory: the archive is then named tracker-backup-YYYYMMDD-HHMMSS.tar.gz.
    """
    from ..models import utcnow
    from .backup import BackupError, make_backup
    from .rows import RowsError

    try:
        result = make_backup(db.engine, current_app.config, dest, utcnow(), force=force)
    except (BackupError, RowsError) as exc:
        raise _fail(str(exc)) from None
    rows = sum(result.tables.values())
    size = f"{result.size / 1024 / 1024:.1f} MB" if result.size >= 1024 * 1024 else f"{result.size / 1024:.0f} KB"
    in_database = result.tables.get("evidence_blobs", 0)
    click.echo(f"已备份到 {result.path}（{size}）：{len(result.tables)} 张表 {rows} 行，"
               f"文件 {result.files} 个" + (f"，数据库中的佐证材料 {in_database} 个" if in_database else "") + "。")


def _migrate_to(revision: str) -> None:
    from alembic.util import CommandError as AlembicError
    from flask_migrate import upgrade

    from .restore import RestoreError

    try:
        upgrade(directory=current_app.extensions["migrate"].directory, revision=revision)
    except AlembicError as exc:
        raise RestoreError(f"无法迁移到备份的版本 {revision}（备份可能来自更新的程序）：{exc}") from None


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="目标数据库或文件夹不是空的时，清空后恢复")
@with_appcontext
def restore_command(source: Path, replace: bool) -> None:
    """Load a backup archive into an empty database and instance folder, and check the manifest."""
    from .restore import RestoreError, restore
    from .rows import RowsError

    try:
        result = restore(db.engine, current_app.config, Path(current_app.instance_path), source, _migrate_to,
                         replace=replace)
    except (RestoreError, RowsError) as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # a constraint the data breaks, a lost connection ...
        raise _fail(f"恢复失败：{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}") from None
    finally:
        db.session.remove()
    for note in result.notes:
        click.echo(f"注意：{note}", err=True)
    click.echo(f"已恢复：{len(result.tables)} 张表 {sum(result.tables.values())} 行，文件 {result.files} 个，"
               f"与清单一致。")


@click.command("health")
@click.option("--no-scheduler", is_flag=True, help="只检查数据库（用于只运行网站的主机）")
@click.option("--max-age", type=click.IntRange(min=1), default=None,
              help="调度器心跳最长间隔（秒，默认 TRACKER_HEALTH_MAX_AGE 或 180）")
@with_appcontext
def health_command(no_scheduler: bool, max_age: int | None) -> None:
    """Exit 0 when the database answers and the scheduler's last heartbeat is recent; one line."""
    from ..models import utcnow
    from .heartbeat import check_health

    limit = max_age or int(current_app.config["HEALTH_MAX_AGE"])
    result = check_health(utcnow(), limit, scheduler=not no_scheduler, tz=current_app.config["TIMEZONE"])
    db.session.remove()
    if not result.ok:
        raise _fail(result.line)
    click.echo(result.line)


