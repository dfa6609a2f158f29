"""Chinese official-document typography for python-docx (GB/T 9704 habits).

A4; margins 37/35/28/26 mm; body 仿宋_GB2312 三号 (16 pt) with a fixed 28 pt line and a two-character
first-line indent; title 方正小标宋简体 二号; first-level headings 黑体, second-level 楷体_GB2312;
page numbers "— N —" (a PAGE field) in the footer. East Asian font names go into ``w:eastAsia``
so Word and WPS pick them (python-docx's ``font.name`` sets only the Latin ones).
"""
from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
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


TEXT_WIDTH_TWIPS = int((210 - 28 - 26) / 25.4 * 1440)
_ILLEGAL_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _cell_xml(text: str, style_id: str) -> str:
    jc = '<w:jc w:val="center"/>' if len(text) <= 8 else ""
    text = escape(text.translate(_ILLEGAL_XML))
    return (f'<w:tc><w:p><w:pPr><w:pStyle w:val="{style_id}"/>{jc}</w:pPr>'
            f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:tc>')


def table(doc, headers: list[str], rows: list[list]):
    """A bordered table ("Table Grid"), header row repeated on every page, columns sized by content.

    Written as one XML fragment: python-docx's cell API costs too much for a 10,000-measure list.
    """
    head_id, text_id = doc._tracker_styles[TABLE_HEAD], doc._tracker_styles[TABLE_TEXT]
    grid_style = doc.styles["Table Grid"].style_id
    cells = [["" if v is None else str(v) for v in values] for values in rows]
    weights = [max([min(30, max(2, len(h)))] + [min(30, max(2, len(r[i]))) for r in cells[:200]])
               for i, h in enumerate(headers)]
    widths = [int(TEXT_WIDTH_TWIPS * w / sum(weights)) for w in weights]
    parts = [f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{grid_style}"/><w:tblW w:w="0" w:type="auto"/>'
             '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>',
             "".join(f'<w:gridCol w:w="{w}"/>' for w in widths), "</w:tblGrid>",
             '<w:tr><w:trPr><w:tblHeader/></w:trPr>', "".join(_cell_xml(h, head_id) for h in headers), "</w:tr>"]
    for values in cells:
        parts.append("<w:tr>" + "".join(_cell_xml(v, text_id) for v in values) + "</w:tr>")
    parts.append("</w:tbl>")
    tbl = parse_xml("".join(parts))
    doc._tracker_sect.addprevious(tbl)
    return Table(tbl, doc._body)


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
