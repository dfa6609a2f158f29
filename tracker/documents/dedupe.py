"""Near-duplicate texts from monthly reports (月报 repeat themselves).

Rule: two texts are the same when their normalised forms are equal — whitespace, punctuation,
digits and ``%`` removed, full-width folded to half-width — or, within one measure, when one
normalised text is contained in the other (the longer, more complete one is kept). Among
duplicates the latest report is kept, its sources (units and measure codes) merged.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

_DROP = re.compile(r"[\s\d%％.,，。、；;：:！!？?“”\"'‘’（）()【】\[\]《》<>—\-_·…~/\\]+")


def normalise(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


@dataclass
class Snippet:
    text: str
    day: date
    measure_codes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    count: int = 1

    def add_source(self, code: str, units: list[str]) -> None:
        if code and code not in self.measure_codes:
            self.measure_codes.append(code)
        for unit in units:
            if unit not in self.units:
                self.units.append(unit)


def latest_distinct(reports: list[tuple[date, str]]) -> list[tuple[date, str]]:
    """One measure's texts, latest first, with near-duplicates (equal or contained) dropped."""
    kept: list[tuple[date, str, str]] = []
    for day, text in sorted(reports, key=lambda r: (r[0], len(r[1])), reverse=True):
        key = normalise(text)
        if not key:
            continue
        replaced = False
        for i, (_kday, _ktext, kkey) in enumerate(kept):
            if key == kkey or key in kkey:
                replaced = True
                break
            if kkey in key:  # an older text that says more: keep the more complete one
                kept[i] = (kept[i][0], text.strip(), key)
                replaced = True
                break
        if not replaced:
            kept.append((day, text.strip(), key))
    return [(day, text) for day, text, _ in kept]


class Collector:
    """Texts across measures, deduplicated by normalised form, in first-seen order."""

    def __init__(self) -> None:
        self.by_key: dict[str, Snippet] = {}

    def add(self, text: str, day: date, code: str, units: list[str]) -> None:
        key = normalise(text)
        if not key:
            return
        snippet = self.by_key.get(key)
        if snippet is None:
            snippet = self.by_key[key] = Snippet(text.strip().rstrip("。；;，,"), day)
        else:
            snippet.count += 1
            if day > snippet.day:
                snippet.day = day
        snippet.add_source(code, units)

    def snippets(self) -> list[Snippet]:
        return list(self.by_key.values())
