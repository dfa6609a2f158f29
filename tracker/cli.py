"""Flask CLI commands (``flask --app wsgi COMMAND``), SPEC section 3: the one list of every command.

Each capability keeps its commands beside its use cases (``<capability>/cli.py``); shared helpers
(one ``错误：`` line, ``--today``) are in ``console.py``. Each command prints one clear line and exits
non-zero on bad input.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .accounts.cli import create_token_command, create_user_command
from .console import CommandError
from .documents.cli import report_group
from .notify.cli import send_reminders_command, set_webhook_command, unset_webhook_command
from .operations.cli import (
    backup_command,
    bump_revision_command,
    health_command,
    init_db_command,
    restore_command,
    seed_command,
)
from .plans.cli import export_ledger_command, import_plan_command
from .reporting.evidence_store import move_evidence_command
from .supervision.cli import check_overdue_command


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
    from .scheduler import (
        Process,
        SchedulerStartError,
        attach_heartbeat,
        build_scheduler,
        catch_up_job,
        install_stop_signals,
        log_next_run,
    )

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


COMMANDS = [
    # setting up and operating (operations/)
    init_db_command, seed_command, bump_revision_command, backup_command, restore_command, health_command,
    move_evidence_command,
    # accounts, the plan and its ledger
    create_user_command, create_token_command, export_ledger_command, import_plan_command,
    # the daily work: overdue flags, reminders, robots, the scheduler process
    check_overdue_command, send_reminders_command, set_webhook_command, unset_webhook_command,
    run_scheduler_command,
    # the bureau's documents (``report bulletin|annual|assessment``)
    report_group,
]


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
