"""Operating commands: ``backup``, ``restore``, ``health`` (SPEC 6.7)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db


def _fail(message: str):
    from ..cli import CommandError

    return CommandError(message)


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

    limit = max_age or int(current_app.config.get("HEALTH_MAX_AGE", 180))
    result = check_health(utcnow(), limit, scheduler=not no_scheduler, tz=current_app.config["TIMEZONE"])
    db.session.remove()
    if not result.ok:
        raise _fail(result.line)
    click.echo(result.line)


COMMANDS = [backup_command, restore_command, health_command]
