"""CLI: init-db, seed (idempotent, reset, bad files), create-user, create-token."""
import shutil
from pathlib import Path

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditLog, Task, Unit, User
from tracker.operations.seed import SEED_DIR, counts


def test_seed_loads_reference_plan_and_is_idempotent(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        c1 = counts()
        levels = dict(db.session.execute(select(Task.level, func.count()).group_by(Task.level)).all())
        kinds = dict(db.session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
        measures_without_lead = [t.code for t in db.session.execute(select(Task).where(Task.is_leaf)).scalars()
                                 if not t.lead_units or not t.deadline_text]
    assert levels == {1: 20, 2: 63, 3: 92}
    assert c1["measures"] == 92 and c1["plans"] == 1
    assert kinds["区直部门"] == 32 and kinds["街镇"] == 24 and c1["units"] >= 56
    assert measures_without_lead == []
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    with app.app_context():
        assert counts() == c1


def test_seed_reset_rebuilds(app, runner):
    runner.invoke(args=["seed"])
    with app.app_context():
        db.session.add(Unit(full_name="临时单位", short_name="临时", kind="其他"))
        db.session.commit()
    result = runner.invoke(args=["seed", "--reset"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Unit.short_name == "临时")) == 0
        assert counts()["measures"] == 92


def _copy_seed(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    return target


def test_malformed_seed_writes_nothing(app, runner, tmp_path):
    bad = _copy_seed(tmp_path)
    plan = bad / "reference_plan.json"
    plan.write_text(plan.read_text(encoding="utf-8").replace("2024年6月底前", "2024年13月底前", 1), encoding="utf-8")
    result = runner.invoke(args=["seed", "--dir", str(bad)])
    assert result.exit_code != 0
    assert "2024年13月底前" in result.output
    with app.app_context():
        assert counts() == {"plans": 0, "units": 0, "tasks": 0, "measures": 0, "users": 0}


def test_seed_with_unknown_unit_is_refused(app, runner, tmp_path):
    bad = _copy_seed(tmp_path)
    plan = bad / "reference_plan.json"
    plan.write_text(plan.read_text(encoding="utf-8").replace('"区交通局"', '"区交通运输局局"', 1), encoding="utf-8")
    result = runner.invoke(args=["seed", "--dir", str(bad)])
    assert result.exit_code != 0
    assert "区交通运输局局" in result.output
    with app.app_context():
        assert counts()["units"] == 0


def test_seed_broken_json_names_line(app, runner, tmp_path):
    bad = _copy_seed(tmp_path)
    (bad / "reference_plan.json").write_text('{"title": "x",\n "tasks": [}', encoding="utf-8")
    result = runner.invoke(args=["seed", "--dir", str(bad)])
    assert result.exit_code != 0 and "第2行" in result.output


def test_create_user_and_token(seeded, runner):
    result = runner.invoke(args=["create-user", "liaison1", "--role", "unit", "--unit", "区交通局",
                                 "--email", "a@b.cn"], input="secret-pass\n")
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        user = db.session.execute(select(User).where(User.username == "liaison1")).scalar_one()
        assert user.unit.short_name == "区交通局"
        assert user.password_hash != "secret-pass" and user.check_password("secret-pass")
        assert db.session.scalar(select(func.count()).where(AuditLog.action == "user_create",
                                                            AuditLog.target_id == user.id)) == 1
    token = runner.invoke(args=["create-token", "liaison1"])
    assert token.exit_code == 0
    assert token.output.strip().startswith("apt_")


def test_create_user_bad_input_one_line_nonzero(seeded, runner):
    cases = [
        (["create-user", "x1", "--role", "boss"], "未知角色"),
        (["create-user", "x2", "--role", "unit", "--unit", "不存在的局"], "未找到单位"),
        (["create-user", "x3", "--role", "unit"], "必须指定所属单位"),
        (["create-user", "admin", "--role", "admin"], "已存在"),
        (["create-user", "bad name!", "--role", "viewer"], "用户名"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args, input="long-enough-password\n")
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with seeded.app_context():
        assert db.session.scalar(select(func.count()).where(User.username.in_(["x1", "x2", "x3"]))) == 0
    short = runner.invoke(args=["create-user", "x4", "--role", "viewer"], input="short\n")
    assert short.exit_code != 0 and "密码至少" in short.output


def test_create_token_unknown_user(seeded, runner):
    result = runner.invoke(args=["create-token", "nobody"])
    assert result.exit_code != 0 and "未找到用户" in result.output
