"""A composed ``Message`` → the JSON payloads of one vendor, split into numbered parts within its size limit.

Formats (vendor docs, see ``webhooks.py``):
* WeCom 群机器人 markdown: ``{"msgtype": "markdown", "markdown": {"content": …}}``, content ≤ 4096 bytes UTF-8
  (headings ``##``, ``**bold**``, links ``[text](url)``, ``> quote``, ``<font color="comment">``).
* DingTalk 自定义机器人 markdown: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}`` (title is the
  notification preview). The custom-robot doc we found names no size limit for ``text``; we keep it within
  ``DINGTALK_TEXT_BYTES`` (4096 bytes, the same bound as WeCom's markdown) so a part is never refused for size.
* Feishu 自定义机器人 rich text: ``{"msg_type": "post", "content": {"post": {"zh_cn": {"title": …, "content":
  [[{"tag": "text", "text": …}, {"tag": "a", "text": …, "href": …}], …]}}}}``; the request body ≤ 20 KB, so the
  JSON (plus the ``timestamp`` and ``sign`` added at send time) is kept ≤ ``FEISHU_BODY_BYTES``.

Every vendor shows the same Message: greeting and intro, the facts as ``label：value`` lines, each section's
heading and numbered entries (linked, with their detail), the closing line and the link.

A message that does not fit is split between facts and entries into parts titled ``…（1/3）``, ``…（2/3）`` …; a
section continued on the next part repeats its heading with ``（续）``. Nothing is cut, except a single fact or
entry that alone exceeds the limit (a very long review comment, say), whose text is shortened with "…".
"""
from __future__ import annotations

import json

from .compose import Entry, Message

WECOM_CONTENT_BYTES = 4096
DINGTALK_TEXT_BYTES = 4096
FEISHU_BODY_BYTES = 20 * 1024 - 256  # room for "timestamp" and "sign"
_MARKER_ROOM = "（99/99）"


def _md(text: str) -> str:
    """Keep task text from being read as markdown syntax or WeCom's <font> tags."""
    return (text or "").replace("[", "【").replace("]", "】").replace("<", "＜").replace(">", "＞") \
        .replace("*", "＊").replace("\n", " ")


def _blocks(msg: Message) -> list[tuple]:
    """The parts a message may be split between: its facts, then each section's heading and entries."""
    blocks: list[tuple] = [("fact", label, value) for label, value in msg.facts]
    for section in msg.sections:
        blocks.append(("section", section.heading))
        for n, entry in enumerate(section.entries, 1):
            blocks.append(("entry", n, entry, section.heading))
    return blocks


def _content(msg: Message, blocks, first: bool, last: bool):
    """One part's content in order, for every vendor: ("text", …), ("fact", label, value), ("section", heading),
    ("entry", n, entry, heading), ("link", text, url). The greeting and intro open the first part; the closing
    line and the link end the last."""
    if first:
        yield from (("text", t) for t in (msg.greeting, msg.intro) if t)
    yield from blocks
    if last and msg.closing:
        yield ("text", msg.closing)
    if last and msg.link:
        yield ("link", msg.link_text, msg.link)


# ---------------------------------------------------------------------------------------- per vendor

def _markdown_lines(msg: Message, blocks, first: bool, last: bool, sep: str, detail_fmt: str) -> list[str]:
    lines = []
    for block in _content(msg, blocks, first, last):
        kind = block[0]
        if kind == "text":
            lines.append(_md(block[1]))
        elif kind == "fact":
            lines.append(f"{_md(block[1])}：{_md(block[2])}")
        elif kind == "section":
            lines.append(f"**{_md(block[1])}**")
        elif kind == "link":
            lines.append(f"[{_md(block[1])}]({block[2]})")
        else:
            _, n, entry, _section = block
            text = f"[{_md(entry.text)}]({entry.url})" if entry.url else _md(entry.text)
            lines.append(f"{n}. {text}" + (sep + detail_fmt.format(_md(entry.detail)) if entry.detail else ""))
    return lines


def wecom(msg: Message, blocks, first: bool, last: bool, marker: str) -> dict:
    lines = [f"## {_md(msg.title)}{marker}"] + _markdown_lines(
        msg, blocks, first, last, "\n", '> <font color="comment">{}</font>')
    return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}


def dingtalk(msg: Message, blocks, first: bool, last: bool, marker: str) -> dict:
    title = f"{msg.title}{marker}"
    lines = [f"#### {_md(title)}"] + _markdown_lines(msg, blocks, first, last, "  \n", "　　{}")
    return {"msgtype": "markdown", "markdown": {"title": title[:100], "text": "\n\n".join(lines)}}


def _text(text: str) -> list[dict]:
    return [{"tag": "text", "text": text}]


def feishu(msg: Message, blocks, first: bool, last: bool, marker: str) -> dict:
    rows: list[list[dict]] = []
    for block in _content(msg, blocks, first, last):
        kind = block[0]
        if kind == "text":
            rows.append(_text(block[1]))
        elif kind == "fact":
            rows.append(_text(f"{block[1]}：{block[2]}"))
        elif kind == "section":
            rows.append(_text(f"【{block[1]}】"))
        elif kind == "link":
            rows.append([{"tag": "a", "text": block[1], "href": block[2]}])
        else:
            _, n, entry, _section = block
            rows.append(_text(f"{n}. ") + [{"tag": "a", "text": entry.text, "href": entry.url} if entry.url
                                           else {"tag": "text", "text": entry.text}])
            if entry.detail:
                rows.append(_text(f"　　{entry.detail}"))
    return {"msg_type": "post",
            "content": {"post": {"zh_cn": {"title": f"{msg.title}{marker}", "content": rows}}}}


def _bytes(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


RENDERERS = {
    "wecom": (wecom, lambda p: len(p["markdown"]["content"].encode("utf-8")), WECOM_CONTENT_BYTES),
    "dingtalk": (dingtalk, lambda p: len(p["markdown"]["text"].encode("utf-8")), DINGTALK_TEXT_BYTES),
    "feishu": (feishu, _bytes, FEISHU_BODY_BYTES),
}


# ---------------------------------------------------------------------------------------- splitting

def _shrink(block: tuple) -> tuple:
    """The block with its longest text halved ("…"): only for a single block that alone exceeds the limit."""
    if block[0] == "fact":
        _, label, value = block
        return ("fact", label, value[: max(len(value) // 2, 1)] + "…")
    _, n, entry, section = block
    text, detail = entry.text, entry.detail
    if len(detail) > 20:
        detail = detail[: len(detail) // 2] + "…"
    else:
        text = text[: max(len(text) // 2, 1)] + "…"
    return ("entry", n, Entry(text, entry.url, detail, entry.measure), section)


def paginate(channel: str, msg: Message) -> list[list[tuple]]:
    """The message's blocks grouped into parts that each fit the channel's limit."""
    render, size, limit = RENDERERS[channel]

    def fits(blocks, first: bool) -> bool:
        return size(render(msg, blocks, first, True, _MARKER_ROOM)) <= limit

    parts: list[list[tuple]] = [[]]
    for block in _blocks(msg):
        if fits(parts[-1] + [block], len(parts) == 1):
            parts[-1].append(block)
            continue
        carried: list[tuple] = []
        if parts[-1] and parts[-1][-1][0] == "section":  # don't leave a heading without entries behind
            carried.append(parts[-1].pop())
        elif block[0] == "entry":
            carried.append(("section", f"{block[3]}（续）"))
        fresh = carried + [block]
        while block[0] != "section" and not fits(fresh, False):
            block = _shrink(block)
            fresh = carried + [block]
        if parts[-1]:
            parts.append(fresh)
        else:
            parts[-1] = fresh
    return parts


def render_parts(channel: str, msg: Message) -> list[dict]:
    """Every part's payload, titled ``（i/n）`` when there is more than one."""
    render, _size, _limit = RENDERERS[channel]
    parts = paginate(channel, msg)
    total = len(parts)
    return [render(msg, blocks, i == 0, i == total - 1, f"（{i + 1}/{total}）" if total > 1 else "")
            for i, blocks in enumerate(parts)]
