"""The documents keep up with the code.

- docs/api.md and the OpenAPI document name the same endpoints, both ways. An endpoint is
  documented as `METHOD /path` in backticks, the path under /api/v1 as the contract writes it
  (placeholder names do not matter: `{id}` and `{cycle_id}` are the same); the section
  "Beside the API" gives full site paths, checked against the app's routes instead. The
  "Planned" section lists what is not built yet: none of its endpoints may exist, so building
  one fails here until its documentation moves out of "Planned".
- Every `minsheng` command (and each of its options) has its own section in docs/api.md's
  "Command line", and every command documented there exists; the planned ones do not yet.
- README.md and every document reached from it by links link only to files and headings that
  exist, and none points outside the repository (`../shared`).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from starlette.routing import Match

from app.cli import build_parser
from app.main import create_app
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "api.md"
API = "/api/v1"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE)\s+(/[^`\s?]*)[^`]*`")
PLANNED = "Planned"
BESIDE = "Beside the API"
COMMAND_LINE = "Command line"


# ----------------------------------------------------------------------------- reading docs

def _prose_lines(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks (``` … ```)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def sections(text: str) -> dict[str, str]:
    """The text under each level-2 heading ('## Title' → title), code blocks left out."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in _prose_lines(text):
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = []
        else:
            found[current].append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def _key(method: str, path: str) -> tuple[str, str]:
    """(METHOD, /path under /api/v1 with every {placeholder} as {})."""
    path = path.removeprefix(API).rstrip("/") or "/"
    return method, re.sub(r"\{[^}]*\}", "{}", path)


def endpoints_in(text: str) -> set[tuple[str, str]]:
    """Every `METHOD /path` the text names."""
    return {_key(m, p) for m, p in ENDPOINT.findall(text)}


def api_doc() -> dict[str, str]:
    return sections(API_DOC.read_text(encoding="utf-8"))


def _section(doc: dict[str, str], prefix: str) -> str:
    titles = [t for t in doc if t.startswith(prefix)]
    assert len(titles) == 1, f"docs/api.md needs one '## {prefix}…' section, has {titles}"
    return doc[titles[0]]


def built_part(doc: dict[str, str]) -> str:
    """docs/api.md without its Planned and Beside-the-API sections."""
    return "\n".join(text for title, text in doc.items()
                     if not title.startswith((PLANNED, BESIDE)))


# ----------------------------------------------------------------------------- the app

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # The app is only read (its OpenAPI document and routes): no database is opened.
    return create_app(make_settings(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'x.db'}"))


@pytest.fixture(scope="module")
def openapi_endpoints(app) -> set[tuple[str, str]]:
    return {_key(method.upper(), path) for path, ops in app.openapi()["paths"].items()
            for method in ops if method.upper() in METHODS}


def _served(app, method: str, path: str) -> bool:
    """Whether a route of the app answers METHOD at this site path ({…} filled in)."""
    scope = {"type": "http", "method": method, "root_path": "", "path_params": {},
             "path": re.sub(r"\{[^}]*\}", "x", path)}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


# ----------------------------------------------------------------------------- the API

def test_every_endpoint_of_the_openapi_document_is_in_the_api_reference(openapi_endpoints):
    documented = endpoints_in(built_part(api_doc()))
    missing = sorted(openapi_endpoints - documented)
    assert not missing, ("docs/api.md does not document these endpoints (outside 'Planned'): "
                         + ", ".join(f"{m} {p}" for m, p in missing))


def test_every_endpoint_the_api_reference_documents_exists(openapi_endpoints):
    documented = endpoints_in(built_part(api_doc()))
    unknown = sorted(documented - openapi_endpoints)
    assert not unknown, ("docs/api.md documents endpoints the OpenAPI document lacks (move "
                         "them to 'Planned' or fix the path): "
                         + ", ".join(f"{m} {p}" for m, p in unknown))


def test_the_addresses_beside_the_api_are_served(app):
    beside = ENDPOINT.findall(_section(api_doc(), BESIDE))
    assert beside, "the 'Beside the API' section lists no address"
    missing = [f"{m} {p}" for m, p in beside if not _served(app, m, p)]
    assert not missing, f"docs/api.md lists addresses the app does not serve: {missing}"


def test_nothing_planned_is_built_yet(openapi_endpoints):
    planned = endpoints_in(_section(api_doc(), PLANNED))
    assert planned, "the 'Planned' section lists no endpoint"
    built = sorted(planned & openapi_endpoints)
    assert not built, ("these endpoints exist now: document them outside 'Planned' in "
                       "docs/api.md: " + ", ".join(f"{m} {p}" for m, p in built))


def test_contract_endpoints_are_matched_whatever_their_placeholders():
    text = "`POST /cycles/{id}/transitions` and `GET /api/v1/cycles/{cycle_id}/proposals?q=路`"
    assert endpoints_in(text) == {("POST", "/cycles/{}/transitions"),
                                  ("GET", "/cycles/{}/proposals")}


# ----------------------------------------------------------------------------- the command line

def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, list[str]]:
    """'db upgrade' → its option strings and positional names, for every runnable command."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        names = []
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            longest = max(action.option_strings, key=len) if action.option_strings else (
                action.dest.upper())
            names.append(longest)
        return {prefix.strip(): names}
    found: dict[str, list[str]] = {}
    for name, sub in subs[0].choices.items():
        found.update(_leaf_commands(sub, f"{prefix} {name}"))
    return found


def _command_sections() -> dict[str, str]:
    """'db upgrade' → the text of docs/api.md's '### `minsheng db upgrade`' section."""
    text = _section(api_doc(), COMMAND_LINE)
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^### `minsheng ([^`]+)`", line)
        if heading:
            current = heading.group(1).strip()
            found[current] = []
        elif current:
            found[current].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def test_every_command_and_option_has_its_section_in_the_api_reference():
    commands = _leaf_commands(build_parser())
    documented = _command_sections()
    assert sorted(documented) == sorted(commands), (
        "docs/api.md's Command line documents "
        f"{sorted(documented)}; `minsheng` has {sorted(commands)}")
    for name, options in commands.items():
        body = documented[name]
        missing = [o for o in options if o not in body]
        assert not missing, f"`minsheng {name}`: its section does not mention {missing}"


def test_planned_commands_do_not_exist_yet():
    commands = _leaf_commands(build_parser())
    planned = re.findall(r"`minsheng ([a-z][a-z-]*(?: [a-z][a-z-]*)?)",
                         _section(api_doc(), PLANNED))
    assert planned, "the 'Planned' section lists no command"
    built = [p for p in planned if p in commands or p.split()[0] in commands]
    assert not built, f"these commands exist now: document them under Command line: {built}"


# ----------------------------------------------------------------------------- links

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """The anchor a heading gets on GitHub (and most Markdown renderers)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (a repeated heading gets -1, -2, …)."""
    found, counts = set(), {}
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        heading = re.match(r"^#{1,6} (.+)$", line)
        if heading:
            slug = _slug(heading.group(1))
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _documents() -> list[Path]:
    """README.md and every Markdown file of the repository reached from it by links."""
    todo, done = [ROOT / "README.md"], []
    while todo:
        path = todo.pop()
        if path in done:
            continue
        done.append(path)
        for target in LINK.findall("\n".join(_prose_lines(path.read_text(encoding="utf-8")))):
            file = target.split("#", 1)[0]
            if file.endswith(".md") and "://" not in file:
                linked = (path.parent / file).resolve()
                if linked.is_file() and ROOT in linked.parents:
                    todo.append(linked)
    return done


def test_readme_reaches_the_documents():
    reached = {p.relative_to(ROOT).as_posix() for p in _documents()}
    for name in ("docs/index.md", "docs/rules.md", "docs/api.md", "docs/operations.md"):
        assert name in reached, f"README.md does not lead to {name}"


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_documents_link_only_to_files_and_headings_that_exist(document):
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text, f"{document.name} points outside the repository (../shared)"
    broken = []
    for target in LINK.findall("\n".join(_prose_lines(text))):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        if not path.exists() or ROOT not in path.parents:
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert not broken, f"{document.relative_to(ROOT)} links to what does not exist: {broken}"


def test_heading_anchors_follow_the_renderers():
    assert _slug("票决 — the deputies' ballot") == "票决--the-deputies-ballot"
    assert _slug("Beside the API") == "beside-the-api"
    assert _slug("`minsheng db upgrade`") == "minsheng-db-upgrade"


# ----------------------------------------------------------------------------- settings

CONTAINER_ONLY = {"MINSHENG_WORKERS", "MINSHENG_FORWARDED_ALLOW_IPS", "MINSHENG_MIGRATE_ON_START",
                  "MINSHENG_TEST_PG"}


def test_every_configuration_variable_is_in_the_operators_guide():
    from app.config import RETIRED, Settings

    text = sections((ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))["Configuration"]
    variables = {f"MINSHENG_{name.upper()}" for name in Settings.model_fields}
    missing = sorted(v for v in variables if f"`{v}`" not in text)
    assert not missing, f"docs/operations.md's Configuration lacks {missing}"
    named = set(re.findall(r"`(MINSHENG_[A-Z_]+)`", text))
    unknown = sorted(named - variables - CONTAINER_ONLY - set(RETIRED))
    assert not unknown, f"docs/operations.md's Configuration names unknown variables {unknown}"


def test_every_jurisdiction_setting_is_in_the_rule_book():
    from app.jurisdictions.settings import JurisdictionSettings

    text = sections((ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))["Settings"]
    missing = [name for name in JurisdictionSettings.model_fields if f"`{name}`" not in text]
    assert not missing, f"docs/rules.md's Settings table lacks {missing}"
