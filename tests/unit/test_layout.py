"""The layout rules of the house (docs/architecture.md): no import cycle, ``dosimetry`` never
imports ``sim``, small modules and functions, a public face (``__all__``) for every public
module, and every document a docstring cites lives in the repository."""
import ast
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sim", "dosimetry")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
PENDING = set()


def _modules():
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _tree(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(name, path):
    """Project modules imported anywhere in a module (top level or inside functions)."""
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")
                base = ".".join(up[:len(up) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            if t in MODULES and t != name:
                found.add(t)
    return found


def _is_kernel_module(path):
    return path.name.startswith("_") and "njit" in path.read_text(encoding="utf-8")


def test_no_import_cycle():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    # a package's __init__ re-exports its modules: edges into it from its own modules are
    # Python's import of the parent, not a dependency of the code
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycle = stack[stack.index(m):] + [m]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)


def test_dosimetry_never_imports_sim():
    for name, path in MODULES.items():
        if name.startswith("dosimetry"):
            bad = [m for m in _imports(name, path) if m.startswith("sim")]
            assert not bad, f"{name} imports {bad}"


def test_module_sizes():
    big = [f"{n}: {len(p.read_text().splitlines())} lines" for n, p in MODULES.items()
           if len(p.read_text().splitlines()) > MAX_MODULE_LINES and not _is_kernel_module(p)
           and n not in PENDING]
    assert not big, big


def _body_lines(fn):
    """Lines of a function without its docstring."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return 0
    return body[-1].end_lineno - body[0].lineno + 1


def _is_compiled_loop(node, path):
    """A numba-compiled function of a kernel module: one hot loop is kept whole, so that the
    compiler sees it at once (a split would cost calls in the innermost loop)."""
    return _is_kernel_module(path) and any(
        "njit" in ast.unparse(d) for d in node.decorator_list)


def test_function_sizes():
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and not _is_compiled_loop(node, path):
                n = _body_lines(node)
                if n > MAX_FUNCTION_LINES and f"{name}.{node.name}" not in PENDING:
                    long.append(f"{name}.{node.name}: {n} lines")
    assert not long, long


def test_public_modules_declare_their_names():
    missing = []
    for name, path in MODULES.items():
        if any(part.startswith("_") for part in name.split(".")) or name.endswith("__main__"):
            continue
        tree = _tree(path)
        declared = any(isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets) for n in tree.body)
        if not declared:
            missing.append(name)
    assert not missing, f"modules without __all__: {missing}"


def test_cited_documents_live_in_the_repository():
    """Docstrings cite the project's own docs/ (or papers), never files outside the repo."""
    bad = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        bad += [f"{name}: {d}" for d in re.findall(r"\b(?:DESIGN|REFERENCE)\.md\b", text)]
        bad += [f"{name}: {d}" for d in re.findall(r"\bdocs/[\w./-]+\.md\b", text)
                if not (ROOT / d).exists()]
    assert not bad, bad
