"""The kernels layer imports nothing from autograd, ops or nn (parsed imports, not a run)."""

import ast
from pathlib import Path

import glassnet.kernels

FORBIDDEN = ("glassnet.autograd", "glassnet.ops", "glassnet.nn")


def _imports(path: Path) -> list[str]:
    package = "glassnet.kernels"
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            mod = f"{base}.{node.module}" if base and node.module else (node.module or base)
            names += [mod] + [f"{mod}.{a.name}" for a in node.names]
    return names


def test_kernels_import_no_autograd_ops_or_nn() -> None:
    root = Path(glassnet.kernels.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert files
    for path in files:
        bad = [n for n in _imports(path) if n.startswith(FORBIDDEN)]
        assert not bad, f"{path.name} imports {bad}"
