"""The bulletin and the annual report draft, read back with python-docx; numbering; LibreOffice; query counts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from tests import documents_history as H
from tests.queries import counting
from tracker.extensions import db
from tracker.models import AuditLog


@pytest.fixture
def history(app):
    with app.app_context():
        ids = H.build_plan()
        H.run(ids)
    return ids


def texts(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.text.strip()]


def bulletin(app, tmp_path, month: str, name: str = "b.docx", today: str = "2024-04-02"):
    out = tmp_path / name
    result = app.test_cli_runner().invoke(args=["report", "bulletin", "--month", month, str(out), "--today", today])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_bulletin_reads_back_with_the_numbers_lists_and_typography(app, history, tmp_path):
    out, output = bulletin(app, tmp_path, "2024-03")
    assert "2024年第1期" in output
    doc = Document(str(out))
    paras = texts(out)
    assert paras[0] == "工作通报" and paras[1] == "2024年第1期" and "2024年4月2日" in paras[2]
    summary = next(p for p in paras if p.startswith("截至2024年3月31日"))
    assert "共有具体工作举措6项，已完成2项，总体完成率33.3%" in summary
    assert "2024年3月完成（销号）2项，其中按期完成1项" in summary
    assert "目前逾期1项，较上月末（1项）持平" in summary
    assert "1个单位1项次未报送" in summary  # 乙局's m3 in March
    ranking, overdue, missing = doc.tables
    assert [c.text for c in ranking.rows[1].cells][:2] == ["1", "丙镇"]
    assert [c.text for c in overdue.rows[1].cells][1:] == ["一（一）3 清理执法证件", "乙局", "2024年2月15日前", "45"]
    assert [c.text for c in missing.rows[1].cells][:2] == ["乙局", "1"]
    assert any("本月予以通报的单位：乙局" in p for p in paras) or any("本月无符合通报条件" in p for p in paras)
    assert any(p.startswith("表扬：") and "丙镇（100分）" in p for p in paras)
    assert len(doc.inline_shapes) == 1  # the chart
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    normal = doc.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312" and doc.styles["Normal"].font.size.pt == 16
    assert doc.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert doc.styles["Heading 2"].element.rPr.rFonts.get(qn("w:eastAsia")) == "楷体_GB2312"
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "fldChar" in footer


def test_bulletin_numbers_are_kept_per_plan_and_year(app, history, tmp_path):
    bulletin(app, tmp_path, "2024-03")
    _, output = bulletin(app, tmp_path, "2024-02")
    assert "2024年第2期" in output
    _, output = bulletin(app, tmp_path, "2024-03")
    assert "2024年第1期" in output
    with app.app_context():
        assert len(db.session.execute(db.select(AuditLog).where(AuditLog.action == "bulletin_number")).all()) == 2
    for bad, needle in (("2024-13", "月份应为"), ("2024Q1", "YYYY-MM"), ("2031-01", "不在计划")):
        result = app.test_cli_runner().invoke(args=["report", "bulletin", "--month", bad, str(tmp_path / "x.docx")])
        assert result.exit_code == 1 and result.output.strip().startswith("错误：") and needle in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_annual_report_has_four_parts_deduplicated_and_traceable(app, history, tmp_path):
    out = tmp_path / "y.docx"
    result = app.test_cli_runner().invoke(args=["report", "annual", "--year", "2024", str(out), "--today", "2025-01-05"])
    assert result.exit_code == 0, result.output
    doc = Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:4] == ["一、基本情况", "二、主要工作成效", "三、存在问题", "四、下步工作打算"]
    subs = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert subs[:2] == ["（一）健全执法制度体系", "（二）加强执法协调监督"]
    paras = texts(out)
    assert any("具体工作举措6项" in p and "牵头单位4个" in p for p in paras)
    assert any("2024年内完成（销号）2项，其中按期完成1项" in p for p in paras)
    assert any("与2023年相比" in p for p in paras)
    # m4 said the same thing three times (numbers aside): one item, the latest, with its unit and code.
    checks = [p for p in paras if "已开展执法检查" in p]
    assert len(checks) == 1 and "检查企业41家" in checks[0] and "乙局" in checks[0] and "二（一）4" in checks[0]
    # m5's shorter January text is contained in February's: only the more complete one is kept.
    assert not any(p.startswith("一是梳理综合执法事项清单（") or "是梳理综合执法事项清单（" in p for p in paras)
    assert any("梳理综合执法事项清单，已完成初稿" in p for p in paras)
    # Problems grouped and deduplicated: reported twice by 甲局 for two measures.
    problem = next(p for p in paras if "基层执法力量不足" in p)
    assert "甲局反映2次" in problem and "一（一）1" in problem and "一（一）2" in problem
    # Next steps: from open measures only (m5 and m4; m1 and m2 are done), deduplicated.
    plans = paras[paras.index("四、下步工作打算"):]
    assert sum("报区政府审定" in p for p in plans) == 1 and not any("征求意见" in p for p in plans)
    for bad, needle in (("2024-06", "YYYY"), ("2031", "不在计划"), ("20x4", "格式")):
        result = app.test_cli_runner().invoke(args=["report", "annual", "--year", bad, str(tmp_path / "z.docx")])
        assert result.exit_code == 1 and result.output.startswith("错误：") and needle in result.output, bad


def test_downloads_from_the_page(app, history, client):
    assert client.post("/login", data={"username": "watcher", "password": "demo12345"}).status_code == 302
    r = client.get("/reports/annual.docx?year=2024&today=2025-01-05")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    r = client.post("/reports/bulletin?today=2024-04-02", data={"month": "2024-03"})
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = client.get("/reports/assessment.xlsx?period=2024Q1")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = client.post("/reports/bulletin", data={"month": "2024-13"})
    assert r.status_code == 422 and "月份应为 01–12" in r.get_data(as_text=True)
    r = client.get("/reports/annual.docx?year=2031")
    assert r.status_code == 422 and 'data-error="year"' in r.get_data(as_text=True)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) not installed: PDF conversion skipped")
def test_libreoffice_converts_both_documents(app, history, tmp_path):
    out, _ = bulletin(app, tmp_path, "2024-03")
    annual = tmp_path / "y.docx"
    assert app.test_cli_runner().invoke(
        args=["report", "annual", "--year", "2024", str(annual), "--today", "2025-01-05"]).exit_code == 0
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(out), str(annual)],
        capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    for name in ("b.pdf", "y.pdf"):
        pdf = tmp_path / "pdf" / name
        assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-", result.stdout + result.stderr


def test_fixed_number_of_statements(seeded, client, auth, tmp_path):
    from tests.test_page_queries import add_measures

    auth.login("dubanke")
    paths = ["/reports?period=2024&today=2024-07-01", "/api/v1/assessment?period=2024-06&today=2024-07-01",
             "/reports/annual.docx?year=2024&today=2024-07-01", "/reports/assessment.xlsx?period=2024Q2"]

    def counts():
        result = {}
        for path in paths:
            client.get(path)
            with counting(seeded) as statements:
                assert client.get(path).status_code == 200, path
            result[path] = len(statements)
        return result

    before = counts()
    assert all(n <= 14 for n in before.values()), before
    add_measures(seeded, 40)
    assert counts() == before


DOCUMENT_ROUTES = {  # (method, path, form) -> status per role
    ("GET", "/reports?period=2024", None): dict(anon=302, admin=200, supervisor=200, viewer=200, unit=403),
    ("GET", "/reports/assessment.xlsx?period=2024", None): dict(anon=302, admin=200, supervisor=200, viewer=200,
                                                                 unit=403),
    ("GET", "/reports/annual.docx?year=2024", None): dict(anon=302, admin=200, supervisor=200, viewer=200, unit=403),
    ("POST", "/reports/bulletin", (("month", "2024-06"),)): dict(anon=302, admin=200, supervisor=200, viewer=200,
                                                                 unit=403),
    ("POST", "/reports/weights", (("on_time", "40"), ("reporting", "30"), ("overdue", "30"), ("per_return", "2"),
                                  ("per_extension", "1"))): dict(anon=302, admin=302, supervisor=403, viewer=403,
                                                                 unit=403),
}


def test_document_routes_by_role(seeded):
    from tracker.documents import bp

    endpoints = {rule.endpoint for rule in seeded.url_map.iter_rules() if rule.endpoint.startswith(bp.name + ".")}
    assert len(endpoints) == len(DOCUMENT_ROUTES)
    for role, username in (("anon", None), ("admin", "admin"), ("supervisor", "dubanke"), ("viewer", "leader"),
                           ("unit", "jtj")):
        client = seeded.test_client()
        if username:
            assert client.post("/login", data={"username": username, "password": "demo1234"}).status_code == 302
        for (method, path, form), expected in DOCUMENT_ROUTES.items():
            r = client.open(path + ("&" if "?" in path else "?") + "today=2024-07-01", method=method,
                            data=dict(form or ()))
            assert r.status_code == expected[role], (role, method, path, r.status_code)


def test_chart_without_a_cjk_font_labels_bars_by_rank(monkeypatch):
    from io import BytesIO

    from PIL import Image

    from tracker.documents import charts

    monkeypatch.setattr(charts, "CJK_FONTS", [])
    png = charts.score_png([("甲局", 90.0), ("乙局", 55.5)], "得分")
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 1000
    monkeypatch.setattr(charts, "CJK_FONTS", ["/nonexistent/font.ttc"])
    assert charts.find_cjk_font() is None
