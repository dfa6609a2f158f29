"""A ledger as bureaus write it (SPEC 6.6): title row, 序号|重点任务|具体措施|责任单位|完成时限|备注,
merged parents, unit groups, every deadline form; and the errors a vague group and a bad date give."""
from datetime import date
from io import BytesIO

from openpyxl import Workbook
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Plan, Task

HEAD = ["序号", "重点任务", "具体措施", "责任单位", "完成时限", "备注"]
TITLE = "宝坻区提升行政执法质量三年行动计划（2023—2025年）任务分解表"
# (parent, measure, units, deadline text, expected deadline, expected start)
MEASURES = [
    ("一、规范执法行为", "措施01", "区司法局、各街镇", "2024年9月底前完成", date(2024, 9, 30), None),
    ("一、规范执法行为", "措施02", "区市场监管局", "2024年底前办结", date(2024, 12, 31), None),
    ("一、规范执法行为", "措施03", "区交通局、区司法局", "2024年6月底前到位", date(2024, 6, 30), None),
    ("一、规范执法行为", "措施04", "区司法局", "2024.6", date(2024, 6, 30), None),
    ("一、规范执法行为", "措施05", "区司法局", "2024.06.30", date(2024, 6, 30), None),
    ("一、规范执法行为", "措施06", "区司法局", "2024/6/30", date(2024, 6, 30), None),
    ("二、强化执法监督", "措施07", "各行政执法部门", "2024年—2025年", date(2025, 12, 31), date(2024, 1, 1)),
    ("二、强化执法监督", "措施08", "区司法局、区直各部门", "2024-2025年", date(2025, 12, 31), date(2024, 1, 1)),
    ("二、强化执法监督", "措施09", "区司法局、各执法部门", "2024年至2025年", date(2025, 12, 31), date(2024, 1, 1)),
    ("二、强化执法监督", "措施10", "区司法局", "2024年起长期坚持", None, date(2024, 1, 1)),
    ("二、强化执法监督", "措施11", "区司法局", "2024年3月起", None, date(2024, 3, 1)),
    ("二、强化执法监督", "措施12", "区司法局", "常态化推进", None, None),
    ("二、强化执法监督", "措施13", "区司法局", "持续开展", None, None),
    ("三、提升执法能力", "措施14", "区司法局", "2023年12月底前启动，2024年6月底前完成", date(2024, 6, 30), None),
    ("三、提升执法能力", "措施15", "区司法局", "每年12月底前", None, None),
    ("三、提升执法能力", "措施16", "区司法局", "每年", None, None),
    ("三、提升执法能力", "措施17", "区司法局", "每半年", None, None),
    ("三、提升执法能力", "措施18", "区司法局", "每季度", None, None),
    ("三、提升执法能力", "措施19", "区司法局", "每季度末", None, None),
    ("三、提升执法能力", "措施20", "区司法局", "每月25日前", None, None),
    ("三、提升执法能力", "措施21每年至少开展1次", "区司法局", "2024年10月", None, None),
]
RECURRING = {"措施15", "措施16", "措施17", "措施18", "措施19", "措施20", "措施21每年至少开展1次"}


def ledger(rows) -> bytes:
    """Title row, header row 2, data from row 3, parent column merged over its measures."""
    wb = Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells("A1:F1")
    ws.append(HEAD)
    start = 3
    for i, (parent, title, units, deadline, *_rest) in enumerate(rows):
        first = i == 0 or rows[i - 1][0] != parent
        ws.append([str(i + 1), parent if first else None, title, units, deadline, "备注" + str(i + 1)])
    r = start
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][0] != rows[i - 1][0]:
            top = start + [j for j in range(i) if j == 0 or rows[j][0] != rows[j - 1][0]][-1]
            if start + i - 1 > top:
                ws.merge_cells(f"B{top}:B{start + i - 1}")
    del r
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_usual_layout_imports_with_no_error(seeded, runner, tmp_path):
    path = tmp_path / "usual.xlsx"
    path.write_bytes(ledger(MEASURES))
    result = runner.invoke(args=["import-plan", str(path)])
    assert result.exit_code == 0, result.output
    from tracker.rules.deadlines import read_deadline
    with seeded.app_context():
        plan = db.session.execute(select(Plan).where(Plan.title == TITLE)).scalar_one()
        assert (plan.start_date, plan.end_date) == (date(2023, 1, 1), date(2025, 12, 31))  # from the title
        tops = db.session.execute(select(Task).where(Task.plan_id == plan.id, Task.parent_id.is_(None))
                                  .order_by(Task.position)).scalars().all()
        assert [(t.code, t.title, len(t.children)) for t in tops] == [
            ("一", "规范执法行为", 6), ("二", "强化执法监督", 7), ("三", "提升执法能力", 8)]
        leaves = {t.title: t for top in tops for t in top.children}
        assert len(leaves) == len(MEASURES)
        for parent, title, units, text, deadline, start in MEASURES:
            task = leaves[title]
            assert task.deadline_text == text and task.is_leaf
            assert task.description.startswith("备注")
            if title not in RECURRING:
                assert task.deadline == deadline, title
                assert read_deadline(text).start == start
        lead = {t: [u.short_name for u in leaves[t].lead_units] for t in leaves}
        co = {t: [u.short_name for u in leaves[t].co_units] for t in leaves}
        assert lead["措施01"] == ["区司法局"] and len(co["措施01"]) == 24 and "大口屯镇" in co["措施01"]
        assert lead["措施03"] == ["区交通局"] and co["措施03"] == ["区司法局"]   # first listed leads
        assert lead["措施02"] == ["区市场监管局"] and co["措施02"] == []
        assert len(lead["措施07"]) == 56 and co["措施07"] == []
        assert lead["措施08"] == ["区司法局"] and len(co["措施08"]) == 31
        assert lead["措施09"] == ["区司法局"] and len(co["措施09"]) == 55
        assert leaves["措施10"].is_ongoing and leaves["措施12"].is_ongoing
        assert not leaves["措施14"].is_ongoing
        # Recurring measures: one period per year/half/quarter/month of 2023–2025.
        expected = {"措施15": ("year", "12-31", 3, date(2023, 12, 31)), "措施16": ("year", "12-31", 3, date(2023, 12, 31)),
                    "措施17": ("half", "06-30", 6, date(2023, 6, 30)), "措施18": ("quarter", "03-31", 12, date(2023, 3, 31)),
                    "措施19": ("quarter", "03-31", 12, date(2023, 3, 31)), "措施20": ("month", "25", 36, date(2023, 1, 25)),
                    "措施21每年至少开展1次": ("year", "10-31", 2, date(2024, 10, 31))}
        for title, (every, due, n, first) in expected.items():
            task = leaves[title]
            assert (task.recurrence_every, task.recurrence_due, len(task.periods)) == (every, due, n), title
            assert task.periods[0].deadline == first and task.deadline == first and task.current_period == task.periods[0].label
        assert [p.label for p in leaves["措施21每年至少开展1次"].periods] == ["2024", "2025"]
        assert [p.deadline for p in leaves["措施17"].periods][-2:] == [date(2025, 6, 30), date(2025, 12, 31)]
        assert all(not leaves[t].recurrence_every for t in leaves if t not in expected)


def test_vague_group_and_bad_date_give_exactly_those_errors(seeded, runner, tmp_path):
    rows = [list(m) for m in MEASURES[:3]]
    rows[1][2] = "区市场监管局、各有关单位"
    rows[2][3] = "2024年6月中旬"
    path = tmp_path / "bad.xlsx"
    path.write_bytes(ledger([tuple(r) for r in rows]))
    result = runner.invoke(args=["import-plan", str(path), "--dry-run"])
    assert result.exit_code != 0
    problems = [line.strip()[2:] for line in result.output.splitlines() if line.strip().startswith("- ")]
    assert problems == [
        "第4行 D列：“各有关单位”不是明确的责任单位，请在台账中写明单位名称或单位组（如 各街镇、各区直部门、各行政执法部门），"
        "或在导入时把它映射为具体单位",
        "第5行 E列：无法识别的完成时限：“2024年6月中旬”",
    ]
    assert "共 2 处错误" in result.output
    with seeded.app_context():
        assert db.session.execute(select(Plan).where(Plan.title == TITLE)).first() is None
