"""Chinese official-document typography for python-docx (GB/T 9704 habits).

A4; margins 37/35/28/26 mm; body 仿宋_GB2312 三号 (16 pt) with a fixed 28 pt line and a two-character
first-line indent; title 方正小标宋简体 二号; first-level headings 黑体, second-level 楷体_GB2312;
page numbers "— N —" (a PAGE field) in the footer. East Asian font names go into ``w:eastAsia``
so Word and WPS pick them (python-docx's ``font.name`` sets only the Latin ones).
"""
from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

FANGSONG, HEITI, KAITI, XIAOBIAOSONG, SONGTI = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
LATIN = "Times New Roman"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 12
TABLE_TEXT, TABLE_HEAD = "表格文字", "表格标题"


def set_fonts(target, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Latin and East Asian font names (``w:rFonts``) of a run or a style."""
    font = target.font
    font.name = LATIN
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)  # a theme font would win over the names below
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), LATIN)
    rfonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)


def new_document():
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(25)
    normal = doc.styles["Normal"]
    set_fonts(normal, FANGSONG, BODY_PT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28)
    fmt.space_before = fmt.space_after = Pt(0)
    for name, face in (("Heading 1", HEITI), ("Heading 2", KAITI), ("Title", XIAOBIAOSONG)):
        style = doc.styles[name]
        set_fonts(style, face, TITLE_PT if name == "Title" else BODY_PT, bold=False)
        style.font.italic = False
        pf = style.paragraph_format
        pf.space_before = pf.space_after = Pt(0)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(36 if name == "Title" else 28)
        pf.first_line_indent = Pt(0 if name == "Title" else BODY_PT * 2)
        pf.keep_with_next = True
    for name, face in ((TABLE_TEXT, FANGSONG), (TABLE_HEAD, HEITI)):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        set_fonts(style, face, TABLE_PT)
        pf = style.paragraph_format
        pf.first_line_indent = Pt(0)
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _page_number_footer(section)
    doc._tracker_sect = doc.element.body.sectPr  # paragraphs are inserted before it (see _paragraph)
    doc._tracker_styles = {s.name: s.style_id for s in doc.styles if s.type == WD_STYLE_TYPE.PARAGRAPH}
    return doc


def _paragraph(doc, style: str | None = None) -> Paragraph:
    """A new paragraph at the end of the body, in constant time.

    python-docx's ``add_paragraph`` looks for the section properties among all body children on
    every call (quadratic for a 10,000-measure report); inserting before the cached element is not.
    """
    p = OxmlElement("w:p")
    doc._tracker_sect.addprevious(p)
    if style:
        p.get_or_add_pPr().style = doc._tracker_styles[style]
    return Paragraph(p, doc._body)


def _field(paragraph, instruction: str, placeholder: str = "1") -> None:
    def fld(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()
    run._r.append(fld("begin"))
    instr = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    instr._r.append(text)
    paragraph.add_run()._r.append(fld("separate"))
    shown = paragraph.add_run(placeholder)
    set_fonts(shown, SONGTI, 14)
    paragraph.add_run()._r.append(fld("end"))


def _page_number_footer(section) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_fonts(paragraph.add_run("— "), SONGTI, 14)
    _field(paragraph, "PAGE")
    set_fonts(paragraph.add_run(" —"), SONGTI, 14)


def title(doc, text: str):
    p = _paragraph(doc, "Title")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_fonts(p.add_run(text), XIAOBIAOSONG, TITLE_PT)
    # python-docx's default Title style draws a bottom border: drop it.
    ppr = doc.styles["Title"].element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    return p


def centered(doc, text: str, face: str = FANGSONG, size: float = BODY_PT):
    p = _paragraph(doc)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    set_fonts(p.add_run(text), face, size)
    return p


def heading(doc, text: str, level: int = 1):
    p = _paragraph(doc, "Heading 1" if level == 1 else "Heading 2")
    p.add_run(text)  # font, size and weight from the heading style
    return p


def body(doc, text: str, *, lead: str = "", indent: bool = True):
    """A body paragraph; ``lead`` (e.g. "一是") is set in bold 仿宋 before the text."""
    p = _paragraph(doc)  # Normal: 仿宋_GB2312 16 pt, fixed 28 pt lines
    p.paragraph_format.first_line_indent = Pt(BODY_PT * 2) if indent else Pt(0)
    if lead:
        p.add_run(lead).bold = True
    p.add_run(text)
    return p


def table(doc, headers: list[str], rows: list[list], widths_mm: list[float] | None = None):
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    head_id, text_id = doc._tracker_styles[TABLE_HEAD], doc._tracker_styles[TABLE_TEXT]
    for cell, text in zip(t.rows[0].cells, headers):
        _cell(cell, text, head_id)
    for values in rows:
        # ``row.cells`` walks the whole table (quadratic for long lists): wrap the new row's cells directly.
        cells = [_Cell(tc, t) for tc in t.add_row()._tr.tc_lst]
        for cell, value in zip(cells, values):
            _cell(cell, "" if value is None else str(value), text_id)
    if widths_mm:
        for row in t.rows:
            for cell, width in zip(row.cells, widths_mm):
                cell.width = Mm(width)
    return t


def _cell(cell, text: str, style_id: str) -> None:
    p = cell.paragraphs[0]
    ppr = p._p.get_or_add_pPr()
    ppr.style = style_id
    if len(text) <= 8:
        ppr.jc_val = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(text)


def picture(doc, png: bytes, width_mm: float = 150) -> None:
    p = _paragraph(doc)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Pt(0)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    p.add_run().add_picture(BytesIO(png), width=Mm(width_mm))


def to_bytes(doc) -> bytes:
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三, 105 → 一百零五 (for 一是…二是…, （一）…)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + cn_number(rest) if rest < 10 else
                                     (("一" + cn_number(rest)) if 10 <= rest < 20 else cn_number(rest)))
        return CN_DIGITS[n // 100] + "百" + tail
    return str(n)
