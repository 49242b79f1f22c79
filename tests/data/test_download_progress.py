"""Downloads report their progress: a bar on a terminal, plain lines in a pipe or a log."""

from __future__ import annotations

import hashlib
import io
import re

import glassnet.data.download as dl
from glassnet.progress import Progress


class Response(io.BytesIO):
    """What urlopen returns, with the Content-Length header a server sends."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_lines_count_the_bytes_and_end_with_the_total(tmp_path, monkeypatch):
    data = bytes(range(256)) * 1000  # 256 kB: four chunks of 64 KiB
    monkeypatch.setattr(dl, "_urlopen", lambda url, timeout=None: Response(data))
    out = io.StringIO()
    dl.download_file(
        "https://example.invalid/big.gz",
        tmp_path / "big.gz",
        md5=hashlib.md5(data).hexdigest(),
        progress=Progress("lines", file=out, interval=0),
    )
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 4
    assert re.fullmatch(r"downloading big.gz  65.5 kB/256.0 kB \(26%\)  \d+\.\ds", lines[0])
    assert re.fullmatch(r"downloading big.gz  256.0 kB/256.0 kB \(100%\)  \d+\.\ds", lines[-1])
    assert (tmp_path / "big.gz").read_bytes() == data


def test_download_without_a_length_and_silent_on_request(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dl, "_urlopen", lambda url, timeout=None: io.BytesIO(b"x" * 10))
    out = io.StringIO()
    dl.download_file("u", tmp_path / "a", progress=Progress("lines", file=out, interval=3600))
    assert re.fullmatch(r"downloading a  10 B  \d+\.\ds\n", out.getvalue())  # the final line
    dl.download_file("u", tmp_path / "b", progress=False)
    assert capsys.readouterr().out == ""
