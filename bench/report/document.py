"""Documents as blocks (headings, paragraphs, tables, images), rendered twice:
Markdown that links the chart files, and a self-contained HTML page with the
charts embedded. Reports and comparisons are built as block lists.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# ------------------------------------------------------------ blocks


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    highlight: frozenset[int] = frozenset()  # row indexes to mark


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


Block = Heading | Para | Bullets | Table | Image


def workload_chart(workload: str) -> str:
    """The key of a workload's chart among a report's charts: in a namespace of its own,
    so that a kernel named ``overview`` or ``matrix`` replaces no other chart."""
    return f"workload:{workload}"


def anchor(text: str) -> str:
    """A heading's anchor, as GitHub makes it for Markdown (lower case, spaces to hyphens,
    other punctuation dropped), so a link works in report.md and report.html alike."""
    words = re.sub(r"[^\w\- ]", "", text.lower(), flags=re.UNICODE)
    return words.replace(" ", "-")


def contents(blocks: Iterable[Block], level: int = 2) -> Para:
    """A table of contents on one line: a link to every heading of ``level``."""
    links = [f"[{b.text.split(':')[0]}](#{anchor(b.text)})" for b in blocks
             if isinstance(b, Heading) and b.level == level]
    return Para("**Contents:** " + " · ".join(links))


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(blocks: Iterable[Block], base: Path) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}\n")
        elif isinstance(b, Para):
            out.append(f"{b.text}\n")
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {i}" for i in b.items) + "\n")
        elif isinstance(b, Table):
            rows = [b.headers, tuple("---" for _ in b.headers), *b.rows]
            marked = {i + 2 for i in b.highlight}
            out.append("\n".join(
                "| " + " | ".join(_md_escape(f"**{c}**" if i in marked and c else c) for c in r)
                + " |" for i, r in enumerate(rows)) + "\n")
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({b.path.relative_to(base).as_posix()})\n")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
 padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #ddd;padding-bottom:.3em}h2{margin-top:2em;border-bottom:1px solid #eee}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.hl td{background:#fff6d5;font-weight:600}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
code{background:#f4f4f4;padding:0 .2em}
"""


def _inline(text: str) -> str:
    """Escape, then turn **bold** and `code` into tags (the Markdown we use)."""
    out = html.escape(text)
    parts = out.split("**")
    out = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    parts = out.split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return _LINK.sub(r'<a href="\2">\1</a>', out)


_LINK = re.compile(r"\[([^\]]+)\]\((#[-\w]+)\)")  # [text](#anchor): a link within the page


def render_html(blocks: Iterable[Block], title: str) -> str:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f'<h{b.level} id="{anchor(b.text)}">{_inline(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            text = b.text[2:] if b.text.startswith("> ") else b.text
            tag = "blockquote" if b.text.startswith("> ") else "p"
            body.append(f"<{tag}>{_inline(text)}</{tag}>")
        elif isinstance(b, Bullets):
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{_inline(h)}</th>" for h in b.headers)
            rows = "".join(
                f"<tr{' class=hl' if i in b.highlight else ''}>"
                + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>"
                for i, r in enumerate(b.rows))
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Image):
            png = b.path.with_suffix(".png")
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            body.append(f'<img alt="{html.escape(b.alt)}" src="data:image/png;base64,{data}">')
    return (f"<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
