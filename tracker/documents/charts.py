"""The score chart: SVG data for the page (the dashboard's bar chart) and a PNG for the documents.

The PNG is drawn with Pillow. Unit names need a CJK font: the first of ``DOCUMENT_CJK_FONT`` and
the usual system paths that exists is used; with none, bars are labelled by rank number and a
legend line says so.
"""
from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw, ImageFont

from ..supervision.dashboard import BarChart, bar_chart

CJK_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/simhei.ttf",
]


def find_cjk_font(extra: Optional[str] = None) -> Optional[str]:
    for path in ([extra] if extra else []) + CJK_FONTS:
        if path and Path(path).is_file():
            return path
    return None


def score_svg(items: list[tuple[str, float]]) -> Optional[BarChart]:
    return bar_chart([(label, value) for label, value in items], limit=max(1, len(items)))


def score_png(items: list[tuple[str, float]], title: str, font_path: Optional[str] = None,
              limit: int = 30) -> bytes:
    """A horizontal bar chart of scores (0–100) as PNG bytes."""
    items = items[:limit]
    scale = 2  # drawn at twice the size for print
    font_file = find_cjk_font(font_path)
    if font_file:
        font = ImageFont.truetype(font_file, 13 * scale)
        labels = [label for label, _ in items]
    else:
        font = ImageFont.load_default()
        labels = [f"No.{i + 1}" for i in range(len(items))]
    bar_h, gap, label_w, top = 18 * scale, 6 * scale, 150 * scale, 34 * scale
    width = 760 * scale
    height = top + max(1, len(items)) * (bar_h + gap) + 30 * scale
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10 * scale, 8 * scale), title if font_file else "Score by unit (no CJK font: labels are ranks)",
              fill="black", font=font)
    usable = width - label_w - 60 * scale
    for i, ((_, value), label) in enumerate(zip(items, labels)):
        y = top + i * (bar_h + gap)
        draw.text((label_w - 8 * scale, y + bar_h // 2), label, fill="black", font=font, anchor="rm")
        length = max(2, int(usable * max(0.0, min(value, 100.0)) / 100))
        colour = (192, 57, 43) if value < 60 else ((41, 98, 255) if value < 90 else (39, 174, 96))
        draw.rectangle([label_w, y, label_w + length, y + bar_h], fill=colour)
        draw.text((label_w + length + 6 * scale, y + bar_h // 2), f"{value:g}", fill="black", font=font, anchor="lm")
    axis_y = top + len(items) * (bar_h + gap)
    draw.line([label_w, top - 4 * scale, label_w, axis_y], fill="black", width=scale)
    for tick in (0, 20, 40, 60, 80, 100):
        x = label_w + int(usable * tick / 100)
        draw.line([x, axis_y, x, axis_y + 4 * scale], fill="black", width=scale)
        draw.text((x, axis_y + 6 * scale), str(tick), fill="black", font=font, anchor="mt")
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
