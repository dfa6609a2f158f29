"""Unit groups (SPEC 6.6): seeded groups, the admin page (roles, CSRF, audit), expansion on import,
vague names refused with a hint unless the import maps them."""
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_token_from, make_app
from tests.queries import count_statements
from tests.test_admin import audit_actions, unit_id
from tests.test_import import make_xlsx
from tracker.extensions import db
from tracker.models import Plan, Task, Unit, UnitGroup

HEAD = ["序号", "一级任务", "二级任务", "具体工作举措", "牵头单位", "配合单位", "完成时限"]


def group(app, name):
    with app.app_context():
        g = db.session.execute(select(UnitGroup).where(UnitGroup.name == name)).scalar_one_or_none()
        if g is None:
            return None
        return g.id, g.name, g.alias_list, g.rule, g.kind, sorted(u.short_name for u in g.members)


def members(app, name):
    from tracker.plans.unit_groups import all_groups, member_units
    with app.app_context():
        units = list(db.session.execute(select(Unit).order_by(Unit.id)).scalars())
        g = next(g for g in all_groups() if g.name == name)
        return [u.short_name for u in member_units(g, units)]


def test_seed_marks_law_enforcement_bodies_and_adds_the_groups(seeded):
    with seeded.app_context():
        flagged = db.session.execute(select(Unit.kind).where(Unit.law_enforcement.is_(True))).scalars().all()
        others = db.session.execute(select(Unit.short_name).where(Unit.law_enforcement.is_(False))).scalars().all()
    assert len(flagged) == 56 and flagged.count("区直部门") == 32 and flagged.count("街镇") == 24
    assert sorted(others) == sorted(["区委编办", "区委依法治区办", "区委宣传部", "区检察院"])
    assert len(members(seeded, "各街镇")) == 24 and "大口屯镇" in members(seeded, "各街镇")
    assert len(members(seeded, "各区直部门")) == 32
    assert len(members(seeded, "各行政执法部门")) == 56
    assert group(seeded, "各区直部门")[2] == ["区直各部门"]
    assert "各执法部门" in group(seeded, "各行政执法部门")[2]
    # Seeding again adds nothing.
    from tracker.operations.seed import seed
    with seeded.app_context():
        seed()
        assert len(db.session.execute(select(UnitGroup)).scalars().all()) == 3


def test_groups_page_roles(seeded, client, auth):
    gid = group(seeded, "各街镇")[0]
    for path in ("/admin/unit-groups", "/admin/unit-groups/new", f"/admin/unit-groups/{gid}/edit"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    auth.login("dubanke")
    html = client.get("/admin/unit-groups").get_data(as_text=True)
    assert "各街镇" in html and "区直各部门" in html and "新建单位组" not in html
    assert client.get("/admin/unit-groups/new").status_code == 403
    assert client.post(f"/admin/unit-groups/{gid}/delete").status_code == 403
    auth.logout()
    auth.login("jtj")
    assert client.get("/admin/unit-groups").status_code == 403
    auth.logout()
    auth.login("admin")
    assert client.get("/admin/unit-groups/99999/edit").status_code == 404
    assert client.get("/admin/unit-groups").status_code == 200


def test_admin_creates_edits_and_deletes_a_group(seeded, client, auth):
    auth.login("admin")
    ids = [str(unit_id(seeded, n)) for n in ("区司法局", "区财政局")]
    r = client.post("/admin/unit-groups/new", data={"name": "法治建设成员单位", "aliases": "各成员单位",
                                                    "rule": "members", "kind": "区直部门", "members": ids})
    assert r.status_code == 302
    gid, name, aliases, rule, kind, mem = group(seeded, "法治建设成员单位")
    assert (aliases, rule, kind, mem) == (["各成员单位"], "members", "", ["区司法局", "区财政局"])
    assert "法治建设成员单位" in audit_actions(seeded, "unit_group_create")[-1].detail
    r = client.post(f"/admin/unit-groups/{gid}/edit", data={"name": "法治建设成员单位", "aliases": "",
                                                           "rule": "kind", "kind": "其他"})
    assert r.status_code == 302
    assert group(seeded, "法治建设成员单位")[3:] == ("kind", "其他", [])
    assert "按单位类别：其他" in audit_actions(seeded, "unit_group_update")[-1].detail
    assert client.post(f"/admin/unit-groups/{gid}/delete").status_code == 302
    assert group(seeded, "法治建设成员单位") is None
    assert audit_actions(seeded, "unit_group_delete")


@pytest.mark.parametrize("data, message", [
    ({"name": "", "rule": "kind", "kind": "街镇"}, "名称不能为空"),
    ({"name": "各镇", "rule": "kind", "kind": "乡"}, "类别应为"),
    ({"name": "各镇", "rule": "members"}, "请至少选择一个成员单位"),
    ({"name": "各镇", "rule": "nobody"}, "请选择成员规则"),
    ({"name": "区司法局", "rule": "kind", "kind": "街镇"}, "已是单位"),
    ({"name": "各镇", "aliases": "区直各部门", "rule": "kind", "kind": "街镇"}, "已被单位组“各区直部门”使用"),
    ({"name": "各有关单位", "rule": "kind", "kind": "街镇"}, "含义不明确"),
    ({"name": "各镇", "rule": "members", "members": ["99999"]}, "不存在"),
])
def test_group_bad_input(seeded, client, auth, data, message):
    auth.login("admin")
    r = client.post("/admin/unit-groups/new", data=data)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    with seeded.app_context():
        assert len(db.session.execute(select(UnitGroup)).scalars().all()) == 3


def test_group_forms_need_csrf(tmp_path, monkeypatch):
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    gid = group(app, "各街镇")[0]
    data = {"name": "各镇", "rule": "kind", "kind": "街镇"}
    for path in ("/admin/unit-groups/new", f"/admin/unit-groups/{gid}/edit", f"/admin/unit-groups/{gid}/delete"):
        r = client.post(path, data=data)
        assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True), path
    assert group(app, "各镇") is None and group(app, "各街镇") is not None
    page = client.get("/admin/unit-groups/new").get_data(as_text=True)
    assert client.post("/admin/unit-groups/new", data=dict(data, csrf_token=csrf_token_from(page))).status_code == 302


def test_groups_page_fixed_query_count(seeded, client, auth):
    auth.login("admin")
    client.get("/admin/unit-groups")
    first = count_statements(seeded, client, "/admin/unit-groups")
    for i in range(3):
        client.post("/admin/unit-groups/new", data={"name": f"组{i}", "rule": "members",
                                                    "members": [str(unit_id(seeded, "区司法局"))]})
    assert count_statements(seeded, client, "/admin/unit-groups") == first


def test_unit_form_sets_law_enforcement_flag(seeded, client, auth):
    auth.login("admin")
    nid = unit_id(seeded, "区委编办")
    r = client.post(f"/admin/units/{nid}/edit", data={"full_name": "中共天津市宝坻区委机构编制委员会办公室",
                                                     "short_name": "区委编办", "kind": "其他", "emails": "",
                                                     "active": "y", "law_enforcement": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert len(members(seeded, "各行政执法部门")) == 57
    assert "标为行政执法部门" in audit_actions(seeded, "unit_update")[-1].detail


GROUP_ROWS = [
    ["1", "一、依法行政", "（一）基层执法", "举措甲", "区司法局", "各街镇", "2024年6月底前"],
    ["2", "一、依法行政", "（一）基层执法", "举措乙", "各执法部门", "", "长期坚持"],
    ["3", "一、依法行政", "（二）部门执法", "举措丙", "区司法局", "区直各部门", "2024年"],
]


def _import(runner, tmp_path, rows, *args):
    path = tmp_path / "g.xlsx"
    path.write_bytes(make_xlsx(rows, head=HEAD, title="单位组测试台账"))
    return runner.invoke(args=["import-plan", str(path), *args])


def _units_of(app, title):
    with app.app_context():
        plan = db.session.execute(select(Plan).where(Plan.title == title)).scalar_one()
        tasks = db.session.execute(select(Task).where(Task.plan_id == plan.id, Task.is_leaf.is_(True))
                                   .order_by(Task.id)).scalars()
        return {t.title: ([u.short_name for u in t.lead_units], [u.short_name for u in t.co_units]) for t in tasks}


def test_import_expands_groups(seeded, runner, tmp_path):
    result = _import(runner, tmp_path, GROUP_ROWS)
    assert result.exit_code == 0, result.output
    units = _units_of(seeded, "单位组测试台账")
    lead, co = units["举措甲"]
    assert lead == ["区司法局"] and len(co) == 24 and "大口屯镇" in co
    lead, co = units["举措乙"]
    assert len(lead) == 56 and co == []
    lead, co = units["举措丙"]
    assert lead == ["区司法局"] and len(co) == 31 and "区司法局" not in co  # the lead is not also co-operating


@pytest.mark.parametrize("name", ["各有关单位", "相关单位"])
def test_vague_name_is_an_error_with_a_hint_unless_mapped(seeded, runner, tmp_path, name):
    rows = [list(GROUP_ROWS[0])]
    rows[0][5] = f"区交通局、{name}"
    result = _import(runner, tmp_path, rows)
    assert result.exit_code != 0
    assert f"第3行 F列：“{name}”不是明确的责任单位" in result.output and "映射" in result.output
    with seeded.app_context():
        assert db.session.execute(select(Plan).where(Plan.title == "单位组测试台账")).first() is None
    bad = _import(runner, tmp_path, rows, "--map", f"{name}=不存在局")
    assert bad.exit_code != 0 and "映射到的未知的单位“不存在局”" in bad.output
    assert _import(runner, tmp_path, rows, "--map", f"{name}").exit_code != 0
    result = _import(runner, tmp_path, rows, "--map", f"{name}=区财政局、各街镇")
    assert result.exit_code == 0, result.output
    lead, co = _units_of(seeded, "单位组测试台账")["举措甲"]
    assert lead == ["区司法局"] and co[:2] == ["区交通局", "区财政局"] and len(co) == 26


def test_upload_page_maps_a_vague_name(seeded, client, auth):
    from io import BytesIO
    rows = [list(GROUP_ROWS[0])]
    rows[0][5] = "各有关单位"
    data = make_xlsx(rows, head=HEAD, title="映射测试台账")
    auth.login("admin")
    r = client.post("/import", data={"file": (BytesIO(data), "a.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "不是明确的责任单位" in r.get_data(as_text=True)
    r = client.post("/import", data={"file": (BytesIO(data), "a.xlsx"), "mapping": "各有关单位"},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "应写成“名称=单位1、单位2”" in r.get_data(as_text=True)
    r = client.post("/import", data={"file": (BytesIO(data), "a.xlsx"), "mapping": "各有关单位=区财政局、区交通局"},
                    content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "检查通过" in html
    token = html.split('name="token" value="')[1].split('"')[0]
    r = client.post("/import/confirm", data={"token": token, "filename": "a.xlsx",
                                             "mapping": "各有关单位=区财政局、区交通局"})
    assert r.status_code == 302
    assert _units_of(seeded, "映射测试台账")["举措甲"] == (["区司法局"], ["区财政局", "区交通局"])
