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


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def imports_of(path: Path, known: set[str]) -> list[tuple[int, str]]:
    """Every in-repo module ``path`` imports (absolute names), with its line."""
    name = module_name(path)
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


def test_every_import_follows_the_layers() -> None:
    bad = []
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        pkg = rel.split("/")[0]
        allowed = set(ALLOWED[pkg])
        if rel.startswith(COMPOSITION_ROOTS):
            allowed.add("simulators")
        for line, mod in imports_of(path, {module_name(p) for p in sources()}):
            if mod.split(".")[0] not in allowed:
                bad.append(f"{rel}:{line}: imports {mod} ({pkg} may import only {', '.join(sorted(allowed))})")
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
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[mod] = 2

    for mod in sorted(edges):
        if mod not in state:
            visit(mod)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("source", ["x = 1\n", "from . import y\n"])
def test_the_checker_sees_a_violation(tmp_path: Path, source: str) -> None:
    """The rule can fail: a drivers module importing hall_bus is reported with file and import."""
    fake = ROOT / "drivers" / "_layer_probe.py"
    fake.write_text("from hall_bus.bus import topics\n" + source, encoding="utf-8")
    try:
        with pytest.raises(AssertionError, match=r"drivers/_layer_probe.py:1: imports hall_bus.bus.topics"):
            test_every_import_follows_the_layers()
    finally:
        fake.unlink()
