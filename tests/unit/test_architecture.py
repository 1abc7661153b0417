"""The shape of the package (docs/ARCHITECTURE.md), checked on its source: nothing outside
sources/ names an engine in code, no module imports itself back through others, validation/
never imports export/, modules stay small, and the architecture document lists every module.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import exporter

PACKAGE = Path(exporter.__file__).parent
ROOT = PACKAGE.parent
# The comparator's session file and folder names say "oracle_" because the operations guide
# names them so (oracle_session_<id>.json, oracle_comparison_state, oracle_checkpoints): they
# are names, not a branch on the engine.
ENGINE_WORDS = re.compile(
    r"oracle(?!_(?:session|comparison_state|checkpoints))|postgres|sqlite|psycopg|adbc"
    r"|\bpg_|\bora-|sqlstate|\bctid\b|rowid",
    re.IGNORECASE,
)
MAX_LINES = 320  # "about 300"; a dialect, mostly SQL text, may reach 400 (shared/STYLE.md),
MAX_DATA_LINES = 400  # and so may the error catalogue, mostly message templates
DATA_MODULES = ("_sql", "exporter.errors")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _code_tokens(path: Path) -> Iterator[tuple[int, str]]:
    """Names and string literals of the module's code, without comments and docstrings
    (which may cite an engine's documentation as the reference for a rule)."""
    source = path.read_text(encoding="utf-8")
    docstrings = {  # every string standing alone: module, class, function, attribute docs
        node.value.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME or (
            token.type == tokenize.STRING and token.start[0] not in docstrings
        ):
            yield token.start[0], token.string


def test_nothing_outside_sources_names_an_engine() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for name, path in _modules()
        if not name.startswith("exporter.sources")
        for line, text in _code_tokens(path)
        if ENGINE_WORDS.search(text)
    ]
    assert found == []


def _imports(name: str, path: Path) -> set[str]:
    """Every module of the package that `name` imports, anywhere in it (functions and
    TYPE_CHECKING blocks too: a circle there is still a circle)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    return {
        name: {other for other in _imports(name, path) if other in modules and other != name}
        for name, path in modules.items()
    }


def test_no_import_circle() -> None:
    graph = _graph()
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert circles == []


def test_validation_never_imports_export() -> None:
    graph = _graph()
    wrong = [
        f"{name} imports {other}"
        for name, others in graph.items()
        if name.startswith("exporter.validation")
        for other in others
        if other.startswith("exporter.export")
    ]
    assert wrong == []


def test_modules_stay_small() -> None:
    too_long = []
    for name, path in _modules():
        limit = MAX_DATA_LINES if name.endswith(DATA_MODULES) else MAX_LINES
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            too_long.append(f"{name}: {lines} lines")
    assert too_long == []


def _has_code(path: Path) -> bool:
    """More than a docstring (a package's __init__.py that is only its description is not
    listed on its own)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body
    )


def test_the_architecture_document_lists_every_module() -> None:
    document = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s*([\w/]+\.(?:py|c))\s", document, re.MULTILINE))
    actual = {
        str(path.relative_to(PACKAGE))
        for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.c")]
        if path.name != "__init__.py" or _has_code(path)
    }
    assert sorted(actual - listed) == [], "modules missing from docs/ARCHITECTURE.md"
    assert sorted(listed - actual) == [], "docs/ARCHITECTURE.md lists modules that do not exist"
