"""A refused form stores nothing (issue 14, finding 14): a page shows the refusal while the
request's session commits (app/db.py), so every page view tries its change through one helper,
app/pages/forms.attempting, which runs it in a savepoint and undoes it on a refusal."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.errors import Busy, DomainError
from app.main import create_app
from app.models import SmsCode, SmsMessage
from tests.conftest import make_settings
from tests.helpers import csrf, run

ROOT = Path(__file__).resolve().parents[1]


class RefusingGateway:
    """An SMS gateway that refuses after the code was stored (busy), as a real one may."""

    async def send(self, session, phone: str, text: str) -> None:
        raise Busy("gateway busy", zh="短信网关繁忙，请稍后再试。")


@pytest.fixture
def refusing(client) -> TestClient:
    settings = make_settings(client.app.state.settings.database_url,
                             sms_sender="tests.test_refused_forms:RefusingGateway")
    with TestClient(create_app(settings)) as other:
        yield other


def _count(client, model) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model)))


def test_a_code_the_gateway_refused_is_not_stored(client, world, refusing):
    """send_code stores the code, then the gateway refuses: the page says so, and no code is
    left behind that nobody received (nor any message in the outbox)."""
    r = refusing.post("/register/code", data={"csrftoken": csrf(refusing),
                                              "phone": "13800138000"})
    assert r.status_code == 503 and "短信网关繁忙" in r.text
    assert _count(client, SmsCode) == 0 and _count(client, SmsMessage) == 0


def test_a_refused_candidate_edit_keeps_the_stored_version(client, world):
    """The edit sets the new title, then refuses the deadline: the title stays as stored and
    the form shows what was typed."""
    from tests.candidates.conftest import accepted, candidate_body, to_screening
    from tests.helpers import page_login, set_jurisdiction_settings
    from tests.proposals.conftest import API, open_cycle

    set_jurisdiction_settings(client, "lezhi", soliciting_min_days=0)
    cycle_id = open_cycle(client, world)
    ids = accepted(client, world, cycle_id, 1)
    to_screening(client, world, cycle_id)
    client.post(f"{API}/jurisdictions/lezhi/units", json={"name": "县交通运输局"},
                headers=world.headers("gov_staff"))
    cid = client.post(f"{API}/cycles/{cycle_id}/candidates", json=candidate_body(ids),
                      headers=world.headers("gov_staff")).json()["id"]
    assert page_login(client, "gov-staff").status_code == 303
    form = {"csrftoken": csrf(client), "title": "改过的标题", "summary": "按三级公路标准改建。",
            "responsible_unit": "县交通运输局", "budget_wan": "4680", "deadline": "2040-01-01",
            "proposal_ids": ids, "funding_source_0": "县级财政", "funding_amount_0": "4680"}
    r = client.post(f"/staff/candidates/{cid}/edit", data=form)
    assert r.status_code == 422 and "完成时限" in r.text and "改过的标题" in r.text
    stored = client.get(f"{API}/candidates/{cid}", headers=world.headers("gov_staff")).json()
    assert stored["title"] == "古乐路金顺镇至冯店镇段改建" and stored["version"] == 1


# ---------------------------------------------------------------- the structure

# Handlers that may stay, as (file, function) → why; a handler that re-raises (as
# the log-in's, which counts a failure with the throttle) is no catch.
ALLOWED: dict[tuple[str, str], str] = {
    ("app/proposals/views.py", "_chosen_photos"):
        "decodes the photos before the request's database session exists (nothing to undo); the "
        "route shows the refusal with the rest of the form",
}


def _view_files() -> list[Path]:
    app = ROOT / "app"
    return sorted({*app.glob("**/views.py"), *app.glob("**/*_views.py")})


def _refusal_classes(module, node: ast.expr) -> list[str]:
    """The names in an `except` clause that are DomainError or one of its subclasses."""
    names = []
    for part in (node.elts if isinstance(node, ast.Tuple) else [node]):
        dotted = ast.unparse(part)
        value = module
        for attr in dotted.split("."):
            value = getattr(value, attr, None)
        if isinstance(value, type) and issubclass(value, DomainError):
            names.append(dotted)
    return names


def _reraises(handler: ast.ExceptHandler) -> bool:
    return bool(handler.body) and isinstance(handler.body[-1], ast.Raise) and (
        handler.body[-1].exc is None)


def test_no_page_view_catches_a_refusal_outside_the_helper():
    found = []
    for path in _view_files():
        rel = path.relative_to(ROOT).as_posix()
        module = importlib.import_module(rel[:-3].replace("/", "."))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if (isinstance(node, ast.ExceptHandler) and node.type is not None
                        and (names := _refusal_classes(module, node.type))
                        and not _reraises(node) and (rel, fn.name) not in ALLOWED):
                    found.append(f"{rel}:{node.lineno} {fn.name}() catches {', '.join(names)}")
    assert not found, ("use app.pages.forms.attempting (a savepoint) instead of catching a "
                       "refusal by hand:\n" + "\n".join(sorted(set(found))))
    assert len(_view_files()) > 15  # the glob still finds the views
