"""The layer table in docs/layers.md lists exactly the layers that exist, with true columns."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import glassnet.nn as nn
from glassnet.onnx import supported_layers

from .nn.test_module_db import MODULE_DB

ROW = re.compile(r"^\| `(\w+)` \| (yes|—) \| (yes|through its operations|—) \|$")


def test_layer_table_lists_every_layer_with_its_module_db_and_onnx_status():
    text = (Path(__file__).parents[1] / "docs" / "layers.md").read_text(encoding="utf-8")
    rows = {m[1]: (m[2], m[3]) for m in map(ROW.match, text.splitlines()) if m}
    layers = {
        n
        for n in nn.__all__
        if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)
    } - {"Module"}
    assert set(rows) == layers
    on_db = {info.module_cls.__name__ for info in MODULE_DB}
    exported = set(supported_layers())
    for name, (db, onnx) in rows.items():
        assert (db == "yes") == (name in on_db), name
        assert (onnx == "yes") == (name in exported), name


def test_pytorch_page_lists_exactly_the_module_db_layers_glassnet_lacks():
    text = (Path(__file__).parents[1] / "docs" / "pytorch.md").read_text(encoding="utf-8")
    section = text.split("## PyTorch's own module tests", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z]\w+)`", section))
    missing = {info.module_cls.__name__ for info in MODULE_DB} - set(dir(nn))
    assert missing <= listed
    assert not (listed - missing) & {info.module_cls.__name__ for info in MODULE_DB}
