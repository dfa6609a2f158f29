"""Annual report draft (年度工作情况报告) as .docx, in the reference report's four parts.

Every sentence is either a fixed template filled with figures, or a text a unit reported (进展情况,
存在问题, 下步计划) with its unit and the traceable code of its measure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Optional

from sqlalchemy import select

from ..extensions import db
from ..models import ProgressUpdate, Task
from ..plans.view import root_map, tree_order
from . import docxkit as dk
from .assessment import Assessment
from .common import change, cn_date, lead_names, path_codes
from .dedupe import Collector, Snippet, latest_distinct

PARTS = ("一、基本情况", "二、主要工作成效", "三、存在问题", "四、下步工作打算")


@dataclass
class Report:
    task_id: int
    day: date
    unit_id: Optional[int]
    narrative: str
    problems: str
    next_steps: str


def load_reports(plan_id: int, start: date, end: date) -> dict[int, list[Report]]:
    """The year's reports of a plan with their texts: one statement."""
    rows = db.session.execute(
        select(ProgressUpdate.task_id, ProgressUpdate.report_date, ProgressUpdate.unit_id, ProgressUpdate.narrative,
               ProgressUpdate.problems, ProgressUpdate.next_steps)
        .join(Task, Task.id == ProgressUpdate.task_id)
        .where(Task.plan_id == plan_id, ProgressUpdate.report_date >= start, ProgressUpdate.report_date <= end)
        .order_by(ProgressUpdate.report_date, ProgressUpdate.id))
    result: dict[int, list[Report]] = {}
    for row in rows:
        result.setdefault(row[0], []).append(Report(*row))
    return result


@dataclass
class AnnualInput:
    plan_title: str
    year: int
    current: Assessment
    previous: Optional[Assessment]  # None when the plan did not run the year before
    tasks: list
    reports: dict[int, list[Report]]


def _source(snippet: Snippet) -> str:
    return f"（{'、'.join(snippet.units) or '未注明单位'}；来源举措：{'、'.join(snippet.measure_codes)}）"


def _items(doc, snippets: list[Snippet]) -> None:
    for i, s in enumerate(snippets, start=1):
        dk.body(doc, s.text + _source(s) + "。", lead=f"{dk.cn_number(i)}是")


def _unit_names(task, report: Report, units: dict[int, str]) -> list[str]:
    if report.unit_id in units:
        return [units[report.unit_id]]
    return lead_names(task)


def basic_facts(a: AnnualInput) -> list[str]:
    cur, prev = a.current, a.previous
    levels: dict[int, int] = {}
    for t in a.tasks:
        if not t.is_leaf:
            levels[t.level] = levels.get(t.level, 0) + 1
    parts = "、".join(f"{dk.cn_number(level)}级任务{n}项" for level, n in sorted(levels.items()))
    kinds: dict[str, int] = {}
    for r in cur.units:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    units = "、".join(f"{k}{n}个" for k, n in kinds.items())
    due = sum(r.reports_due for r in cur.units)
    filed = sum(r.reports_filed for r in cur.units)
    on_time = sum(r.reports_on_time for r in cur.units)
    facts = [
        f"{a.plan_title}共有{parts + '、' if parts else ''}具体工作举措{cur.measures}项，"
        f"涉及牵头单位{len(cur.units)}个{'（' + units + '）' if units else ''}。",
        f"截至{cn_date(cur.asof)}，已完成具体工作举措{cur.done_total}项，完成率{dk.percent(cur.done_rate)}；"
        f"{a.year}年内完成（销号）{cur.completed}项，其中按期完成{cur.completed_on_time}项，按期完成率"
        f"{dk.percent(cur.completed_on_time / cur.completed if cur.completed else None)}；"
        f"逾期未完成{len(cur.overdue)}项，累计逾期{sum(r.overdue_days for r in cur.overdue)}天。",
        f"全年应报送月度进展{due}项次，已报送{filed}项次，其中按时报送{on_time}项次，按时报送率"
        f"{dk.percent(on_time / due if due else None)}；审核退回{sum(r.returns for r in cur.units)}次；申请延期"
        f"{sum(r.extensions_requested for r in cur.units)}次，获批{sum(r.extensions_granted for r in cur.units)}次。",
    ]
    if prev is not None:
        prev_due = sum(r.reports_due for r in prev.units)
        prev_rate = sum(r.reports_on_time for r in prev.units) / prev_due if prev_due else None
        rate = on_time / due if due else None
        rate_change = ("" if rate is None or prev_rate is None else
                       f"按时报送率{change(round((rate - prev_rate) * 100, 1), 0.0, '个百分点').replace('增加', '提高').replace('减少', '下降')}，")
        facts.append(f"与{a.year - 1}年相比，年内完成数{change(cur.completed, prev.completed)}，{rate_change}"
                     f"年末逾期数{change(len(cur.overdue), len(prev.overdue))}。")
    for kind in kinds:
        rows = [r for r in cur.units if r.kind == kind]
        top = "、".join(f"{r.unit}（{r.score:g}分）" for r in rows[:3])
        facts.append(f"{kind}牵头具体工作举措{sum(r.measures for r in rows)}项次，年内完成{sum(r.completed for r in rows)}项次，"
                     f"年末逾期{sum(r.overdue for r in rows)}项次；考核得分前三位的是{top}。")
    return facts


@dataclass
class Tree:
    ordered: list
    codes: dict[int, str]
    roots: dict[int, int]
    units: dict[int, str]
    firsts: list


def _tree(tasks: list) -> Tree:
    ordered = tree_order(tasks)
    return Tree(ordered, path_codes(tasks), root_map(tasks),
                {link.unit_id: link.unit.name for t in tasks for link in t.unit_links},
                [t for t in ordered if t.parent_id is None])


def build_annual(a: AnnualInput, progress: Optional[Callable[[str], None]] = None) -> bytes:
    say = progress or (lambda _s: None)
    tree = _tree(a.tasks)
    doc = dk.new_document()
    dk.title(doc, f"{a.year}年度工作情况报告")
    dk.centered(doc, "（草稿）")
    dk.centered(doc, f"——{a.plan_title}", dk.KAITI)
    named = a.plan_title if "《" in a.plan_title else f"《{a.plan_title}》"
    dk.body(doc, f"{a.year}年，各责任单位按照{named}的部署，推进{a.current.measures}项具体工作举措的落实。"
                 f"本稿由督办台账根据{a.year}年的月度报送和审核记录生成，括号内为报送单位和来源举措编号，供修改定稿。"
                 f"现将{a.year}年度工作情况报告如下：")
    say("基本情况")
    dk.heading(doc, PARTS[0])
    for fact in basic_facts(a):
        dk.body(doc, fact)
    say("主要工作成效")
    problems, plans = _achievements(doc, a, tree)
    say("存在问题与下步工作打算")
    _problems(doc, a, problems)
    _plans(doc, a, tree, plans)
    dk.heading(doc, f"附件：{a.year}年度各单位考核情况")
    dk.body(doc, a.current.weights.formula() + "。")
    dk.table(doc, ["名次", "单位", "牵头举措", "完成", "按期完成", "逾期", "应报", "按时报送", "退回", "得分"],
             [[r.rank, r.unit, r.measures, r.completed, r.completed_on_time, r.overdue, r.reports_due,
               r.reports_on_time, r.returns, f"{r.score:g}"] for r in a.current.units])
    return dk.to_bytes(doc)


def _achievements(doc, a: AnnualInput, tree: Tree) -> tuple[Collector, dict[int, Collector]]:
    """二、主要工作成效, one part per first-level task; collects problems and next steps on the way."""
    dk.heading(doc, PARTS[1])
    problems, plans = Collector(), {root.id: Collector() for root in tree.firsts}
    leaves_of: dict[int, list] = {}
    for task in tree.ordered:
        if task.is_leaf and task.id in a.reports:
            leaves_of.setdefault(tree.roots[task.id], []).append(task)
    for n, root in enumerate(tree.firsts, start=1):
        dk.heading(doc, f"（{dk.cn_number(n)}）{root.title}", level=2)
        section = Collector()
        for task in leaves_of.get(root.id, []):
            reports, code = a.reports[task.id], tree.codes[task.id]
            unit_of = {r.day: r for r in reports}
            for day, text in latest_distinct([(r.day, r.narrative) for r in reports]):
                section.add(text, day, code, _unit_names(task, unit_of[day], tree.units))
            for r in reports:
                if r.problems.strip():
                    problems.add(r.problems, r.day, code, _unit_names(task, r, tree.units))
            item = a.current.items.get(task.id)
            latest = next((r for r in reversed(reports) if r.next_steps.strip()), None)
            if latest is not None and not (item and item.done):
                plans[root.id].add(latest.next_steps, latest.day, code, _unit_names(task, latest, tree.units))
        snippets = sorted(section.snippets(), key=lambda s: (s.day, len(s.text)), reverse=True)
        if snippets:
            _items(doc, snippets)
        else:
            dk.body(doc, f"{a.year}年该项任务下的具体工作举措未报送进展情况。")
    return problems, plans


def _problems(doc, a: AnnualInput, problems: Collector) -> None:
    dk.heading(doc, PARTS[2])
    found = sorted(problems.snippets(), key=lambda s: (-s.count, -s.day.toordinal()))
    if not found:
        dk.body(doc, f"{a.year}年各责任单位未在月度报送中反映问题。")
        return
    dk.body(doc, f"各责任单位在{a.year}年月度报送中反映的问题主要有以下{len(found)}个方面（按反映次数排列）：")
    for i, s in enumerate(found, start=1):
        dk.body(doc, f"{s.text}（{'、'.join(s.units)}反映{s.count}次；涉及举措：{'、'.join(s.measure_codes)}）。",
                lead=f"{dk.cn_number(i)}是")


def _plans(doc, a: AnnualInput, tree: Tree, plans: dict[int, Collector]) -> None:
    dk.heading(doc, PARTS[3])
    n = 0
    for root in tree.firsts:
        snippets = sorted(plans[root.id].snippets(), key=lambda s: -s.day.toordinal())
        if not snippets:
            continue
        n += 1
        dk.heading(doc, f"（{dk.cn_number(n)}）{root.title}", level=2)
        _items(doc, snippets)
    if not n:
        dk.body(doc, f"{a.year}年末各未完成举措的报送中未填写下步计划。")
