"""Unit groups (单位组): names such as 各街镇 that stand for several units (SPEC 6.6).

Groups are data an admin edits (``/admin/unit-groups``); ``member_units`` expands
one group, ``UnitResolver`` (plans.py) expands them in unit cells on import and
seed. A vague name (各有关单位) is never guessed: it is an error with a hint unless
the import maps it to units.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import GROUP_RULES, UNIT_KINDS, Unit, UnitGroup, User

RULE_LABELS = {"kind": "按单位类别", "law_enforcement": "全部行政执法部门", "members": "指定成员"}
VAGUE_NAMES = frozenset({
    "各有关单位", "有关单位", "相关单位", "各相关单位", "各单位", "有关部门", "相关部门", "各有关部门", "各相关部门",
    "各责任单位", "责任单位",
})
VAGUE_HINT = ("不是明确的责任单位，请在台账中写明单位名称或单位组（如 各街镇、各区直部门、各行政执法部门），"
              "或在导入时把它映射为具体单位")
ALIAS_SPLIT = re.compile(r"[;；,，、\n\r]+")

# The groups every installation starts with (seed): name, aliases, rule, kind.
DEFAULT_GROUPS = (
    ("各街镇", ("各街道（镇）", "各镇街"), "kind", "街镇"),
    ("各区直部门", ("区直各部门",), "kind", "区直部门"),
    ("各行政执法部门", ("各执法部门", "各行政执法单位"), "law_enforcement", ""),
)


def parse_mapping(text: str) -> dict[str, list[str]]:
    """Import mapping lines ``各有关单位=区司法局、区财政局``; Invalid naming a bad line."""
    mapping: dict[str, list[str]] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, targets = line.partition("=")
        names = [t.strip() for t in ALIAS_SPLIT.split(targets) if t.strip()]
        if not sep or not name.strip() or not names:
            raise Invalid({"mapping": [f"单位映射第{number}行“{line}”应写成“名称=单位1、单位2”"]})
        mapping[name.strip()] = names
    return mapping


def is_vague(name: str) -> bool:
    return name in VAGUE_NAMES


def all_groups() -> list[UnitGroup]:
    return list(db.session.execute(
        select(UnitGroup).options(selectinload(UnitGroup.members)).order_by(UnitGroup.id)).scalars())


def member_units(group: UnitGroup, units: Iterable[Unit]) -> list[Unit]:
    """The active units a group stands for, in the order of ``units``."""
    if group.rule == "kind":
        return [u for u in units if u.active and u.kind == group.kind]
    if group.rule == "law_enforcement":
        return [u for u in units if u.active and u.law_enforcement]
    ids = {m.id for m in group.members}
    return [u for u in units if u.active and u.id in ids]


def get_group(group_id: int) -> UnitGroup:
    group = db.session.get(UnitGroup, group_id)
    if group is None:
        raise NotFound("未找到该单位组")
    return group


def _validate(group: Optional[UnitGroup], name: str, aliases: list[str], rule: str, kind: str,
              member_ids: list[int]) -> tuple[dict, list[Unit]]:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["名称不能为空"]
    elif len(name) > 100:
        errors["name"] = ["名称最多 100 字"]
    if rule not in GROUP_RULES:
        errors["rule"] = ["请选择成员规则"]
    if rule == "kind" and kind not in UNIT_KINDS:
        errors["kind"] = [f"类别应为 {'、'.join(UNIT_KINDS)} 之一"]
    members: list[Unit] = []
    if member_ids:
        members = list(db.session.execute(select(Unit).where(Unit.id.in_(member_ids))).scalars())
        if len(members) != len(set(member_ids)):
            errors["members"] = ["成员中有不存在的单位"]
    if rule == "members" and not member_ids and "members" not in errors:
        errors["members"] = ["请至少选择一个成员单位"]
    for label, value in [("name", name)] + [("aliases", a) for a in aliases]:
        if label in errors or not value:
            continue
        if is_vague(value):
            errors[label] = [f"“{value}”含义不明确，不能作为单位组名称"]
            continue
        unit = db.session.execute(select(Unit.full_name).where(
            or_(Unit.full_name == value, Unit.short_name == value)).limit(1)).scalar_one_or_none()
        if unit is not None:
            errors[label] = [f"“{value}”已是单位“{unit}”的名称"]
            continue
        for other in all_groups():
            if (group is None or other.id != group.id) and value in other.names:
                errors[label] = [f"“{value}”已被单位组“{other.name}”使用"]
                break
    if name and name in aliases:
        errors.setdefault("aliases", ["别名不能与名称相同"])
    return errors, members


def _describe(group: UnitGroup) -> str:
    rule = RULE_LABELS.get(group.rule, group.rule)
    if group.rule == "kind":
        rule += f"：{group.kind}"
    elif group.rule == "members":
        rule += "：" + "、".join(u.short_name for u in group.members)
    alias = f"（别名：{'、'.join(group.alias_list)}）" if group.alias_list else ""
    return f"{group.name}{alias}，{rule}"


def save_group(actor: Optional[User], group_id: Optional[int], *, name: str, aliases: str, rule: str,
               kind: str = "", member_ids: Iterable[int] = (), note: str = "") -> UnitGroup:
    """Create (``group_id`` None) or update a group; Invalid with field errors, nothing written."""
    group = get_group(group_id) if group_id is not None else None
    name = (name or "").strip()
    alias_list = list(dict.fromkeys(a.strip() for a in ALIAS_SPLIT.split(aliases or "") if a.strip()))
    ids = [int(i) for i in member_ids]
    errors, members = _validate(group, name, alias_list, rule, (kind or "").strip(), ids)
    if errors:
        raise Invalid(errors)
    before = _describe(group) if group is not None else ""
    if group is None:
        group = UnitGroup(name=name)
        db.session.add(group)
    group.name, group.aliases, group.rule = name, ";".join(alias_list), rule
    group.kind = kind.strip() if rule == "kind" else ""
    group.members = members if rule == "members" else []
    group.note = (note or "").strip()[:2000]
    db.session.flush()
    after = _describe(group)
    action = "unit_group_update" if before else "unit_group_create"
    audit.record(action, actor, target_type="unit_group", target_id=group.id,
                 detail=f"{before} → {after}" if before else after, username="" if actor else "system")
    db.session.commit()
    return group


def delete_group(actor: User, group_id: int) -> None:
    group = get_group(group_id)
    audit.record("unit_group_delete", actor, target_type="unit_group", target_id=group.id, detail=_describe(group))
    db.session.delete(group)
    db.session.commit()


def ensure_default_groups() -> int:
    """Add the default groups that are missing (seed); the caller commits. Returns how many."""
    taken = {n for g in all_groups() for n in g.names}
    added = 0
    for name, aliases, rule, kind in DEFAULT_GROUPS:
        if name in taken:
            continue
        db.session.add(UnitGroup(name=name, aliases=";".join(a for a in aliases if a not in taken),
                                 rule=rule, kind=kind))
        added += 1
    db.session.flush()
    return added
