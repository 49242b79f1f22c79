"""A self-contained HTML run report: one file, figures embedded, no scripts, no external URLs.

The page is plain HTML5 with inline CSS; images are embedded as base64 ``data:`` URIs, so the
file can be mailed, archived or opened offline in any browser. Every piece of user text passes
through ``html.escape``; the markup is also well-formed XML (void elements self-closed), which
the tests use to check it.
"""

from __future__ import annotations

import base64
import html
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       line-height: 1.5; color: #1f2328; background: #ffffff; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.8em; margin: 0.2em 0; }
h2 { font-size: 1.35em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de;
     padding-bottom: 0.2em; }
h3 { font-size: 1.15em; margin-top: 1.4em; }
.meta { color: #59636e; font-size: 0.9em; margin: 0 0 1em; }
nav { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; }
nav ul { margin: 0.3em 0; padding-left: 1.2em; }
nav li.sub { margin-left: 1.2em; }
a { color: #0969da; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em;
       background: #f6f8fa; padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px;
      overflow-x: auto; line-height: 1.4; }
pre code { background: none; padding: 0; white-space: pre; }
.table-wrap { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.92em; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #59636e; font-size: 0.9em; margin-top: 4px; }
footer { color: #59636e; font-size: 0.85em; margin-top: 3em; border-top: 1px solid #d0d7de;
         padding-top: 0.5em; }
"""

_IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")
_ORDERED_ITEM = re.compile(r"^\s*\d+[.)]\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _scoped_css(scope: str = ".glassnet-report") -> str:
    """``_CSS`` with every rule limited to ``scope`` (``body``/``main``/``:root`` become it)."""
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", _CSS):
        scoped = []
        for sel in selectors.split(","):
            sel = sel.strip()
            scoped.append(scope if sel in (":root", "body", "main") else f"{scope} {sel}")
        rules.append(f"{', '.join(scoped)} {{{body}}}")
    return "\n".join(rules)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Escape ``text``, then render ``code`` spans and **bold** (nothing else is markup)."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick is literal text
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{_esc(part)}</code>")
        else:
            out.append(_BOLD.sub(r"<strong>\1</strong>", _esc(part)))
    return "".join(out)


def _format_cell(value: Any, float_fmt: str) -> tuple[str, bool]:
    """Cell text and whether it is numeric (right-aligned)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        return (float_fmt.format(value) if math.isfinite(value) else str(value)), True
    return str(value), False


class Report:
    """Build a self-contained HTML report, block by block, and write it atomically.

    >>> r = Report("Run 1")
    >>> r.add_heading("Results")
    >>> r.add_text("Accuracy **0.98** on `digits` <b>held-out</b>.")
    >>> r.add_table([{"model": "LeNet", "accuracy": 0.9812}])
    >>> "<strong>0.98</strong>" in r.to_html(), "&lt;b&gt;" in r.to_html()
    (True, True)
    """

    def __init__(self, title: str, *, subtitle: str | None = None, timestamp: bool = True) -> None:
        """Start a report.

        Args:
            title: page title and top heading.
            subtitle: an optional line under the title (e.g. the command that produced the run).
            timestamp: print the time of writing in the header.
        """
        self.title = str(title)
        self.subtitle = subtitle
        self.timestamp = timestamp
        self._blocks: list[str] = []
        self._headings: list[tuple[int, str, str]] = []  # (level, id, text)

    def __repr__(self) -> str:
        return f"Report({self.title!r}, {len(self._blocks)} blocks)"

    def add_heading(self, text: str, level: int = 2) -> None:
        """Add a section heading (``level`` 2 to 4; the report title is level 1)."""
        if isinstance(level, bool) or not isinstance(level, int) or not 2 <= level <= 4:
            raise ValueError(f"add_heading expected level 2, 3 or 4, got {level!r}")
        anchor = f"sec-{len(self._headings) + 1}"
        self._headings.append((level, anchor, str(text)))
        self._blocks.append(f'<h{level} id="{anchor}">{_esc(text)}</h{level}>')

    def add_text(self, text: str) -> None:
        """Add paragraphs.

        Blank lines separate paragraphs; a block whose lines all start with ``- ``, ``* `` or
        ``1. `` is a list; ```code``` and ``**bold**`` are rendered; everything else is literal
        text (HTML in ``text`` is shown, never interpreted). Line breaks inside a paragraph are
        kept.
        """
        if not isinstance(text, str):
            raise TypeError(f"add_text expected a string, got {type(text).__name__}")
        for block in re.split(r"\n\s*\n", text.strip()):
            lines = [ln for ln in block.splitlines() if ln.strip()]
            if not lines:
                continue
            if all(_LIST_ITEM.match(ln) for ln in lines):
                tag = "ol" if all(_ORDERED_ITEM.match(ln) for ln in lines) else "ul"
                items = "".join(
                    f"<li>{_inline(_LIST_ITEM.sub('', ln, count=1).strip())}</li>" for ln in lines
                )
                self._blocks.append(f"<{tag}>{items}</{tag}>")
            else:
                body = "<br />".join(_inline(ln.strip()) for ln in lines)
                self._blocks.append(f"<p>{body}</p>")

    def add_table(
        self,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]] | Mapping[str, Sequence[Any]],
        headers: Sequence[str] | None = None,
        *,
        caption: str | None = None,
        float_fmt: str = "{:.4g}",
    ) -> None:
        """Add a table.

        Args:
            rows: a list of dicts (columns: the union of their keys, in first-seen order), a
                list of sequences (one value per header), or a dict of columns.
            headers: column names; with dict rows it selects and orders the columns.
            caption: an optional caption above the table.
            float_fmt: format for floats; ints and text are shown as they are.
        """
        if isinstance(rows, Mapping):  # {column: values}
            cols = {str(k): list(v) for k, v in rows.items()}
            lengths = {len(v) for v in cols.values()}
            if len(lengths) > 1:
                found = {k: len(v) for k, v in cols.items()}
                raise ValueError(f"add_table expected columns of equal length, got lengths {found}")
            n = lengths.pop() if lengths else 0
            rows = [{k: v[i] for k, v in cols.items()} for i in range(n)]
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
            raise TypeError(
                f"add_table expected rows as a list of dicts or lists, got {type(rows).__name__}"
            )
        body: list[list[Any]] = []
        if rows and all(isinstance(r, Mapping) for r in rows):
            dict_rows: list[Mapping[str, Any]] = list(rows)  # type: ignore[arg-type]
            if headers is None:
                seen: dict[str, None] = {}
                for row in dict_rows:
                    for k in row:
                        seen.setdefault(str(k))
                headers = list(seen)
            body = [[row.get(h) for h in headers] for row in dict_rows]
        else:
            for i, seq in enumerate(rows):
                if isinstance(seq, (Mapping, str, bytes)) or not isinstance(seq, Sequence):
                    raise TypeError(
                        f"add_table expected every row as a dict, or every row as a list; row {i} "
                        f"is {type(seq).__name__}"
                    )
                if headers is not None and len(seq) != len(headers):
                    raise ValueError(
                        f"add_table expected {len(headers)} values per row (one per header), "
                        f"row {i} has {len(seq)}"
                    )
                body.append(list(seq))
        parts = ['<div class="table-wrap"><table>']
        if caption:
            parts.append(f"<caption>{_esc(caption)}</caption>")
        if headers is not None:
            parts.append("<thead><tr>")
            parts.extend(f'<th scope="col">{_esc(h)}</th>' for h in headers)
            parts.append("</tr></thead>")
        parts.append("<tbody>")
        for cells in body:
            parts.append("<tr>")
            for value in cells:
                text, numeric = _format_cell(value, float_fmt)
                cls = ' class="num"' if numeric else ""
                parts.append(f"<td{cls}>{_esc(text)}</td>")
            parts.append("</tr>")
        parts.append("</tbody></table></div>")
        self._blocks.append("".join(parts))

    def add_figure(
        self,
        png_path: str | os.PathLike[str] | Any,
        caption: str | None = None,
        *,
        alt: str | None = None,
    ) -> None:
        """Embed a figure as a base64 ``data:`` URI: an image file (PNG, JPEG or GIF), or a
        matplotlib ``Figure`` (what the ``glassnet.viz`` functions return, saved or not).

        The image is read (or rendered) now, so the file may be moved or deleted, and the
        figure changed, before :meth:`write`.
        """
        if hasattr(png_path, "savefig") and getattr(png_path, "path", None) is None:
            from ._common import render

            self._embed(render(png_path, "png"), "image/png", caption, alt or caption or "figure")
            return
        p = Path(png_path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"add_figure: no such image file: {str(p)!r}") from None
        except IsADirectoryError:
            raise ValueError(
                f"add_figure expected an image file, got a directory: {str(p)!r}"
            ) from None
        mime = next((m for sig, m in _IMAGE_TYPES if data.startswith(sig)), None)
        if mime is None:
            raise ValueError(
                f"add_figure expected a PNG, JPEG or GIF image, got {str(p)!r} starting with "
                f"{data[:8]!r}"
            )
        self._embed(data, mime, caption, alt if alt is not None else (caption or p.stem))

    def _embed(self, data: bytes, mime: str, caption: str | None, alt_text: str) -> None:
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        self._blocks.append(
            f'<figure><img src="{uri}" alt="{_esc(alt_text)}" loading="lazy" />{cap}</figure>'
        )

    def add_code(self, text: str) -> None:
        """Add preformatted text (logs, commands, generated samples), escaped, whitespace kept."""
        self._blocks.append(f"<pre><code>{_esc(text)}</code></pre>")

    def _header(self) -> list[str]:
        head = [f"<h1>{_esc(self.title)}</h1>"]
        meta = []
        if self.subtitle:
            meta.append(_esc(self.subtitle))
        if self.timestamp:
            now = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
            meta.append("written " + _esc(now))
        if meta:
            head.append(f'<p class="meta">{" · ".join(meta)}</p>')
        if len(self._headings) >= 2:
            items = []
            for level, anchor, text in self._headings:
                cls = ' class="sub"' if level > 2 else ""
                items.append(f'<li{cls}><a href="#{anchor}">{_esc(text)}</a></li>')
            head.append(f"<nav><strong>Contents</strong><ul>{''.join(items)}</ul></nav>")
        return head

    def to_html(self) -> str:
        """The complete HTML document as a string."""
        from .. import __version__

        head = self._header()
        return "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8" />',
                '<meta name="viewport" content="width=device-width, initial-scale=1" />',
                f"<title>{_esc(self.title)}</title>",
                f"<style>{_CSS}</style>",
                "</head>",
                "<body>",
                "<main>",
                "<header>",
                *head,
                "</header>",
                *self._blocks,
                f"<footer>Generated by glassnet {_esc(__version__)}.</footer>",
                "</main>",
                "</body>",
                "</html>",
                "",
            ]
        )

    def _repr_html_(self) -> str:
        """The report inline in Jupyter: the page's body in a ``div`` whose styles apply to it
        alone (the notebook's own look is left as it is)."""
        return "\n".join(
            [
                '<div class="glassnet-report">',
                f"<style>{_scoped_css()}</style>",
                "<header>",
                *self._header(),
                "</header>",
                *self._blocks,
                "</div>",
            ]
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report atomically (temporary file, then rename); return the path.

        ``path`` is the HTML file, or an existing directory to write ``report.html`` into.
        """
        target = Path(path)
        if target.is_dir():
            target = target / "report.html"
        return atomic_write_text(target, self.to_html())
