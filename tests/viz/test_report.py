"""Report: self-contained, escaped, well-formed HTML written atomically."""

from __future__ import annotations

import base64
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from glassnet import viz

EVIL = '<script>alert("x")</script> & <b onclick="steal()">'
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "wbr", "source"}


def figure(tmp_path: Path, name: str, seed: int) -> Path:
    """A real, small PNG from the tile renderer (fast)."""
    w = np.random.default_rng(seed).normal(size=(4, 1, 3, 3))
    return viz.plot_filters(w, tmp_path / name)


def parse(doc: str) -> ET.Element:
    """The document is well-formed: XML-parse it after the doctype (our markup is polyglot)."""
    assert doc.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(doc.split("\n", 1)[1])


class TagBalance(HTMLParser):
    """HTML5 check with the standard parser: every non-void element closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


@pytest.fixture(scope="module")
def pngs(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("figures")
    return [Path(figure(out, f"fig{i}.png", i)) for i in range(3)]  # the figures are path-like


def full_report(pngs: list[Path]) -> tuple[viz.Report, list[Path]]:
    r = viz.Report(f"Run {EVIL}", subtitle=f"cmd {EVIL}")
    r.add_heading(f"Results {EVIL}")
    r.add_text(
        f"Accuracy **0.98** with `lr=0.1` on f*g. {EVIL}\n\n- first {EVIL}\n- second\n\n"
        "1. one\n2. two\n\nsee https://example.com for more"
    )
    r.add_table(
        [{"model": "LeNet", "acc": 0.981234, "n": 10}, {"model": EVIL, "epochs": 3}],
        caption=f"table {EVIL}",
    )
    r.add_table([[1, 2.5], ["x", None]], headers=["a", EVIL])
    r.add_table({"k": [1, 2], "v": [np.float32(0.5), np.int64(7)]})
    r.add_heading("Figures", level=3)
    for i, p in enumerate(pngs):
        r.add_figure(p, caption=f"figure {i} {EVIL}")
    r.add_code(f"loss 0.1\n    {EVIL}\n")
    return r, pngs


def test_figures_are_embedded_as_data_uris(tmp_path, pngs):
    copies = []
    for p in pngs:
        copies.append(tmp_path / p.name)
        copies[-1].write_bytes(p.read_bytes())
    r, pngs = full_report(copies)
    doc = r.to_html()
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', doc)
    assert len(uris) == len(pngs) == doc.count("<img ")
    assert [base64.b64decode(u) for u in uris] == [p.read_bytes() for p in pngs]
    for p in pngs:  # read at add time: the report no longer needs the files
        p.unlink()
    assert r.to_html().count("data:image/png;base64,") == 3


def test_no_external_resources_and_no_scripts(tmp_path, pngs):
    r, _ = full_report(pngs)
    doc = r.to_html()
    checker = TagBalance()
    checker.feed(doc)
    checker.close()
    assert not checker.stack
    assert "script" not in checker.tags and "link" not in checker.tags
    for key, value in checker.attrs:
        if key in ("src", "href"):
            assert value.startswith(("data:image/", "#")), (key, value[:40])
        assert not key.startswith("on"), key  # no event handlers
    assert "http://" not in doc and doc.count("https://") == 1  # only the user's literal text
    assert "https://example.com for more</p>" in doc
    clean = viz.Report("plain")
    clean.add_text("nothing external")
    assert "http" not in clean.to_html()


def test_user_text_is_escaped_everywhere(tmp_path, pngs):
    r, _ = full_report(pngs)
    doc = r.to_html()
    assert "<script" not in doc.lower() and "<b onclick" not in doc
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b onclick="
    # <title>, h1, subtitle, heading and its contents entry, paragraph, list item, table cell,
    # table caption, table header, 3 figure captions and their 3 alt attributes, code
    assert doc.count(escaped) == 17
    root = parse(doc)
    assert root.tag == "html"
    body_text = "".join(root.itertext())
    assert body_text.count('<script>alert("x")</script>') == 14  # shown as text (not alt)


def test_markdown_ish_text_tables_and_headings(tmp_path, pngs):
    r, _ = full_report(pngs)
    root = parse(r.to_html())
    p = root.find(".//main/p[strong]")
    assert p is not None
    assert p.find("strong").text == "0.98" and p.find("code").text == "lr=0.1"
    assert "on f*g." in "".join(p.itertext())  # a lone asterisk is not markup
    assert [li.text for li in root.find(".//main/ol")] == ["one", "two"]
    assert root.find(".//main/ul/li").text.startswith("first <script>")
    tables = root.findall(".//table")
    assert [th.text for th in tables[0].iter("th")] == ["model", "acc", "n", "epochs"]
    first = [td.text for td in tables[0].find("tbody/tr")]
    assert first == ["LeNet", "0.9812", "10", None]  # 4 significant digits, missing cell empty
    assert tables[0].find("tbody/tr/td[2]").get("class") == "num"
    assert [td.text for td in tables[2].iter("td")] == ["1", "0.5", "2", "7"]  # NumPy scalars
    nav = [a.get("href") for a in root.iter("a")]
    assert nav == ["#sec-1", "#sec-2"]
    assert root.find(".//h3").get("id") == "sec-2"
    pre = root.find(".//pre/code")
    assert pre.text.startswith("loss 0.1\n    <script>")  # whitespace kept
    img = root.find(".//figure/img")
    css = root.find(".//style").text
    assert "max-width: 100%" in css and img.get("alt").startswith("figure 0")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch, pngs):
    r, _ = full_report(pngs)
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    written = r.write(out_dir)  # a directory: report.html inside it
    assert written == out_dir / "report.html"
    assert os.listdir(out_dir) == ["report.html"]
    assert written.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    before = written.read_bytes()

    def crash(src, dst):
        raise OSError("disk on fire")

    r.add_text("a second version")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk on fire"):
        r.write(written)
    assert written.read_bytes() == before  # the previous report is intact
    assert os.listdir(out_dir) == ["report.html"]  # and no temporary file was left behind
    monkeypatch.undo()
    nested = r.write(tmp_path / "a" / "b" / "r.html")
    assert "a second version" in nested.read_text(encoding="utf-8")


def test_report_errors(tmp_path):
    r = viz.Report("x")
    with pytest.raises(FileNotFoundError, match="no such image file"):
        r.add_figure(tmp_path / "missing.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="PNG, JPEG or GIF image"):
        r.add_figure(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="level 2, 3 or 4"):
        r.add_heading("h", level=1)
    with pytest.raises(ValueError, match=r"2 values per row \(one per header\), row 1 has 3"):
        r.add_table([[1, 2], [1, 2, 3]], headers=["a", "b"])
    with pytest.raises(ValueError, match="columns of equal length"):
        r.add_table({"a": [1, 2], "b": [1]})
    with pytest.raises(TypeError, match="add_text expected a string"):
        r.add_text(3)  # type: ignore[arg-type]
