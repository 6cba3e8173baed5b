"""The dependency rule of the tree, read from every module's imports (ast).

``drivers <- devices <- hall_bus <- kiosk <- ui``: a package may import only the packages to its
left. ``simulators`` sits beside them and may import ``drivers``, ``devices`` and ``hall_bus``; no
production module imports ``simulators``, except the composition roots that exist to run them, all
in ``ui/demo/`` (the demo hall and the screenshot tool). Imports between files form no cycle,
counting imports placed inside functions too, so that none can hide one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("drivers", "devices", "hall_bus", "kiosk", "ui")
ALLOWED: dict[str, set[str]] = {pkg: set(LAYERS[: i + 1]) for i, pkg in enumerate(LAYERS)}
ALLOWED["simulators"] = {"drivers", "devices", "hall_bus", "simulators"}
COMPOSITION_ROOTS = ("ui/demo/",)  # may also import simulators
PACKAGES = tuple(ALLOWED)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))


def imports_of(path: Path, known: set[str], root: Path = ROOT) -> list[tuple[int, str]]:
    """Every in-repo module ``path`` imports (absolute names), with its line."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in known else base))
    return [(line, mod) for line, mod in found if mod.split(".")[0] in PACKAGES]


def graph() -> dict[str, list[tuple[int, str]]]:
    files = sources()
    known = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, known) for p in files}


def violations(root: Path = ROOT) -> list[str]:
    """Every import of the tree under ``root`` that breaks the layers, as ``file:line: imports X (...)``."""
    files = sources(root)
    known = {module_name(p, root) for p in files}
    bad = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        pkg = rel.split("/")[0]
        allowed = set(ALLOWED[pkg])
        if rel.startswith(COMPOSITION_ROOTS):
            allowed.add("simulators")
        for line, mod in imports_of(path, known, root):
            if mod.split(".")[0] not in allowed:
                bad.append(f"{rel}:{line}: imports {mod} ({pkg} may import only {', '.join(sorted(allowed))})")
    return bad


def test_every_import_follows_the_layers() -> None:
    bad = violations()
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_no_import_cycles_between_files() -> None:
    edges = {mod: sorted({m for _, m in deps if m != mod}) for mod, deps in graph().items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(mod: str) -> None:
        state[mod] = 1
        stack.append(mod)
        for dep in edges.get(mod, []):
            if dep not in edges:
                continue
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep) :] + [dep]))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[mod] = 2

    for mod in sorted(edges):
        if mod not in state:
            visit(mod)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("drivers/probe.py", "from hall_bus.bus import topics\n", "drivers/probe.py:1: imports hall_bus.bus"),
        ("devices/probe.py", "def f():\n    from simulators import cards\n", "devices/probe.py:2: imports simulators"),
        ("hall_bus/probe.py", "import ui.app\n", "hall_bus/probe.py:1: imports ui.app"),
    ],
)
def test_the_checker_sees_a_violation(tmp_path: Path, where: str, source: str, expected: str) -> None:
    """The rule can fail: a module importing a layer to its right is reported with file, line and import,
    also when the import hides inside a function."""
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
    (tmp_path / where).write_text(source, encoding="utf-8")
    assert any(v.startswith(expected) for v in violations(tmp_path)), violations(tmp_path)
