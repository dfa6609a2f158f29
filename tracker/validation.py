"""One set of rules for every value that comes from outside (path, query, form, JSON, files, CLI).

- integers: ASCII digits only (no ``²``, ``٣``, ``+1``, ``1e3``), within the range of the column they
  are compared with (32-bit signed ``integer`` on SQLite and PostgreSQL alike);
- dates: ``YYYY-MM-DD`` in ASCII digits, a real day between 2000-01-01 and 2100-12-31;
- text: no control characters other than tab and newline (NUL included), no lone surrogates or
  non-characters; names (single-line fields) take no line break at all;
- JSON bodies: bounded size and nesting depth.

Every parser raises ``Invalid`` with a field error in Chinese (never Python's own message), so the web
layer shows it on the form, the API answers 422 with ``errors`` and the CLI prints one ``错误：`` line.
Ids in URL paths use ``StrictIntConverter`` (registered as ``int``): junk there is a 404.
"""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Optional

from werkzeug.routing import BaseConverter, ValidationError

from .errors import Invalid

INT32_MAX = 2**31 - 1
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 20

_DIGITS = re.compile(r"-?[0-9]{1,10}", re.ASCII)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
# Refused everywhere: C0 controls except tab/newline (CR is normalised first), DEL, C1 controls,
# lone surrogates and the XML non-characters U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Single-line fields additionally refuse every line break a mail header or a table would split on.
_LINE_BREAK = re.compile("[\n\r\t\x0b\x0c\x85\u2028\u2029]")


# --------------------------------------------------------------------------- integers

def parse_int(value: Any, *, field: str, label: str, low: Optional[int] = None, high: Optional[int] = INT32_MAX,
              required: bool = False) -> Optional[int]:
    """An integer from a query string, a form (ASCII digits) or JSON (an int); None when empty and optional."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid({field: [f"请填写{label}"]})
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT32_MAX:
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not _DIGITS.fullmatch(text):
            raise Invalid({field: [f"{label}应为整数（只能包含数字 0–9）"]})
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid({field: [f"{label}应为整数"]})
    lowest = -INT32_MAX - 1 if low is None else low
    highest = INT32_MAX if high is None else min(high, INT32_MAX)
    if not lowest <= value <= highest:
        if low is None:
            raise Invalid({field: [f"{label}超出范围（不大于 {highest}）"]})
        raise Invalid({field: [f"{label}应在 {lowest}–{highest} 之间"]})
    return value


def parse_id(value: Any, *, field: str, label: str, required: bool = False) -> Optional[int]:
    """A record id: 1 … 2^31−1."""
    return parse_int(value, field=field, label=label, low=1, required=required)


class StrictIntConverter(BaseConverter):
    """``<int:…>`` in URL paths: an id, 1–10 ASCII digits within 1 … 2^31−1; anything else is a 404."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= INT32_MAX:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


# --------------------------------------------------------------------------- several fields at once

def collect(errors: dict[str, list[str]], parse: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``parse(*args, **kwargs)``; on Invalid, its field errors go into ``errors`` and the value is None.

    Lets a use case check every field of a form and report all problems at once."""
    try:
        return parse(*args, **kwargs)
    except Invalid as exc:
        errors.update(exc.errors)
        return None


# --------------------------------------------------------------------------- dates

def parse_date(value: Any, *, field: str, label: str = "日期", required: bool = False) -> Optional[date]:
    """``YYYY-MM-DD`` (ASCII digits), a real day within 2000-01-01 … 2100-12-31."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid({field: [f"请填写{label}"]})
        return None
    if isinstance(value, date):
        day = value
    else:
        m = _DATE.fullmatch(value.strip()) if isinstance(value, str) else None
        if m is None:
            raise Invalid({field: [f"{label}格式应为 YYYY-MM-DD（例如 2024-07-01）"]})
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise Invalid({field: [f"{label}格式应为 YYYY-MM-DD 的有效日期：{value.strip()}"]}) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise Invalid({field: [f"{label}超出范围（{MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()}）"]})
    return day


# --------------------------------------------------------------------------- text

def text_problem(value: str, *, single_line: bool = False) -> Optional[str]:
    """Why ``value`` breaks the text rule (a Chinese phrase naming the character), or None."""
    if single_line:
        m = _LINE_BREAK.search(value)
        if m is not None:
            return f"不能包含换行或制表符（U+{ord(m.group()):04X}）"
    m = _CONTROL.search(value)
    if m is not None:
        return f"含有不允许的控制字符（U+{ord(m.group()):04X}）"
    return None


def normalise_newlines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check_text(value: Any, *, field: str, label: str, errors: dict[str, list[str]], single_line: bool = False,
               required: bool = False, max_chars: Optional[int] = None, max_bytes: Optional[int] = None) -> str:
    """The text rule for one field: returns the stripped text, or "" with an error added to ``errors``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(f"{label}应为文本")
        return ""
    if not single_line:
        value = normalise_newlines(value)
    value = value.strip()
    problem = text_problem(value, single_line=single_line)
    if problem:
        errors.setdefault(field, []).append(f"{label}{problem}")
        return ""
    if required and not value:
        errors.setdefault(field, []).append(f"请填写{label}")
    elif max_chars is not None and len(value) > max_chars:
        errors.setdefault(field, []).append(f"{label}最多 {max_chars} 字")
    elif max_bytes is not None and len(value.encode("utf-8")) > max_bytes:
        errors.setdefault(field, []).append(f"{label}过长（不超过 {max_bytes // 1024} KB）")
    return value


def require_text(value: Any, *, field: str, label: str, **options) -> str:
    """``check_text`` for a single field: Invalid instead of an error list."""
    errors: dict[str, list[str]] = {}
    text = check_text(value, field=field, label=label, errors=errors, **options)
    if errors:
        raise Invalid(errors)
    return text


def check_mapping(values: Mapping[str, Any] | Iterable[tuple[str, Any]],
                  labels: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Field errors for every name and string value (all values of a MultiDict) breaking the text rule."""
    errors: dict[str, list[str]] = {}
    labels = labels or {}
    if hasattr(values, "items"):
        values = values.items(multi=True) if hasattr(values, "getlist") else values.items()
    for name, value in values:
        if text_problem(name, single_line=True):
            errors.setdefault("_", []).append("参数名含有不允许的字符")
            continue
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            errors.setdefault(name, []).append(f"{labels.get(name, name)}{problem}")
    return errors


# --------------------------------------------------------------------------- JSON bodies

_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


def json_depth(text: str) -> int:
    """The nesting depth of a JSON text, found without building it (strings are skipped)."""
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def parse_json_object(raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """A JSON object from a request body, within size and depth limits; Invalid otherwise."""
    if len(raw) > max_bytes:
        raise Invalid({"_": [f"请求体过大（上限 {max_bytes // 1024} KB）"]})
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid({"_": ["请求体应为 UTF-8 编码的 JSON"]}) from None
    if json_depth(text) > max_depth:
        raise Invalid({"_": [f"JSON 嵌套层数过多（上限 {max_depth} 层）"]})
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid({"_": ["请求体应为合法的 JSON（Content-Type: application/json）"]}) from None
    if not isinstance(data, dict):
        raise Invalid({"_": ["请求体应为 JSON 对象，例如 {\"status\": \"in_progress\", …}"]})
    return data

