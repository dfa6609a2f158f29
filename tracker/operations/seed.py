"""Loading the reference units, plan and demo users from ``seed/`` (data files).

Idempotent: running it twice gives the same counts. ``reset`` empties every
table first and rebuilds.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from .. import audit
from ..accounts.users import EMAIL_RE, create_user
from ..errors import Invalid
from ..extensions import db
from ..models import UNIT_KINDS, Plan, Task, Unit, User
from ..plans import unit_groups
from ..plans.service import UnitResolver, create_plan, plan_spec_from_dict

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@dataclass
class SeedResult:
    units_created: int = 0
    units_updated: int = 0
    plans_created: int = 0
    users_created: int = 0

    def __str__(self) -> str:
        return (f"单位新增 {self.units_created}、更新 {self.units_updated}；计划新增 {self.plans_created}；"
                f"用户新增 {self.users_created}")


def read_units(path: Path) -> list[dict]:
    """Rows of units.csv, validated; Invalid naming the line on a malformed file."""
    errors: list[str] = []
    rows: list[dict] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"full_name", "short_name", "kind", "emails"} - set(reader.fieldnames or [])
            if missing:
                raise Invalid({"file": [f"{path.name}：缺少列 {', '.join(sorted(missing))}"]})
            for lineno, row in enumerate(reader, start=2):
                full = (row.get("full_name") or "").strip()
                short = (row.get("short_name") or "").strip()
                kind = (row.get("kind") or "").strip()
                emails = [e.strip() for e in (row.get("emails") or "").split(";") if e.strip()]
                if not full or not short:
                    errors.append(f"{path.name} 第{lineno}行：单位全称和简称不能为空")
                if kind not in UNIT_KINDS:
                    errors.append(f"{path.name} 第{lineno}行：单位类别“{kind}”应为 {'、'.join(UNIT_KINDS)} 之一")
                bad = [e for e in emails if not EMAIL_RE.match(e)]
                if bad:
                    errors.append(f"{path.name} 第{lineno}行：邮箱格式不正确 {', '.join(bad)}")
                flag = (row.get("law_enforcement") or "0").strip()
                if flag not in ("0", "1"):
                    errors.append(f"{path.name} 第{lineno}行：law_enforcement 应为 0 或 1")
                rows.append({"full_name": full, "short_name": short, "kind": kind, "emails": ";".join(emails),
                             "law_enforcement": flag == "1"})
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise Invalid({"file": [f"无法读取 {path.name}：{exc}"]}) from None
    if errors:
        raise Invalid({"file": errors})
    return rows


def read_plan(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid({"file": [f"无法读取 {path.name}：{exc}"]}) from None
    except json.JSONDecodeError as exc:
        raise Invalid({"file": [f"{path.name} 第{exc.lineno}行第{exc.colno}列：JSON 格式错误（{exc.msg}）"]}) from None
    return plan_spec_from_dict(data, source=path.name)


def read_demo_users(path: Path) -> list[dict]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return [dict(row) for row in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise Invalid({"file": [f"无法读取 {path.name}：{exc}"]}) from None


def reset_database() -> None:
    """Delete every row of every table (children first)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.flush()


def seed(seed_dir: Path = SEED_DIR, *, reset: bool = False, demo_users: bool = True,
         unit_emails: bool = True) -> SeedResult:
    """Load units, the reference plan(s) and demo users; all or nothing.

    ``unit_emails=False`` leaves the new units' liaison addresses empty: the seed's addresses are demo
    addresses, and a production scheduler would mail them.
    """
    # Read and validate every file before writing anything.
    unit_rows = read_units(seed_dir / "units.csv")
    plan_specs = [read_plan(p) for p in sorted(seed_dir.glob("*plan*.json"))]
    user_rows = read_demo_users(seed_dir / "demo_users.csv") if demo_users and (seed_dir / "demo_users.csv").exists() else []

    result = SeedResult()
    try:
        if reset:
            reset_database()
        existing = {u.full_name: u for u in db.session.execute(select(Unit)).scalars()}
        for row in unit_rows:
            unit = existing.get(row["full_name"])
            if unit is None:
                db.session.add(Unit(**{**row, "emails": row["emails"] if unit_emails else ""}, active=True))
                result.units_created += 1
            elif (unit.short_name, unit.kind, unit.law_enforcement) != (
                    row["short_name"], row["kind"], row["law_enforcement"]):
                unit.short_name, unit.kind = row["short_name"], row["kind"]
                unit.law_enforcement = row["law_enforcement"]
                result.units_updated += 1
        db.session.flush()
        unit_groups.ensure_default_groups()

        resolver = UnitResolver(create_missing=False)
        for spec in plan_specs:
            if db.session.execute(select(Plan.id).where(Plan.title == spec.title)).first():
                continue
            create_plan(spec, resolver)
            result.plans_created += 1

        for row in user_rows:
            if db.session.execute(select(User.id).where(User.username == row["username"])).first():
                continue
            create_user(row["username"], row["role"], row["password"], unit=row.get("unit") or None,
                        email=row.get("email", ""), display_name=row.get("display_name", ""))
            result.users_created += 1
        audit.record("seed", None, username="system", detail=str(result))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def counts() -> dict[str, int]:
    return {
        "plans": db.session.scalar(select(func.count(Plan.id))),
        "units": db.session.scalar(select(func.count(Unit.id))),
        "tasks": db.session.scalar(select(func.count(Task.id))),
        "measures": db.session.scalar(select(func.count(Task.id)).where(Task.is_leaf.is_(True))),
        "users": db.session.scalar(select(func.count(User.id))),
    }
