"""Faces import services, never another domain's face.

A face is a domain's JSON API or its pages (`api.py`, `*_api.py`, `views.py`, `*_views.py`);
what two domains share lives in a service, schema or helper module. Only app/main.py, which
mounts the routers, imports faces of every domain.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
FACE = re.compile(r"(api|views|\w+_api|\w+_views)")


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _face_domain(module: str) -> str | None:
    """The domain whose face `module` is (app.<domain>…<face>), or None for any other module."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "app" and FACE.fullmatch(parts[-1]):
        return parts[1]
    return None


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names, at any depth (function-level imports too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def crossings(root: Path = APP) -> list[str]:
    """`file:line imports module` for each import of another domain's face."""
    out = []
    for path in sorted(root.rglob("*.py")):
        module = _module(path, root)
        if module == "app.main":
            continue
        own = module.split(".")[1] if module.count(".") else None
        for line, name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            domain = _face_domain(name)
            if domain is not None and domain != own:
                out.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return out


def test_the_face_pattern_names_api_and_view_modules_only():
    assert _face_domain("app.candidates.api") == "candidates"
    assert _face_domain("app.ballots.staff_views") == "ballots"
    assert _face_domain("app.proposals.comments_api") == "proposals"
    assert _face_domain("app.candidates.service") is None
    assert _face_domain("app.pages.render") is None
    assert _face_domain("app.opendata.export") is None


def test_no_module_imports_another_domains_face():
    assert crossings() == []
