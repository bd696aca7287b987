"""Text rules that fit Chinese: "修路" is a title, "社区老人吃饭不方便" a description; text over a
limit is refused (422 on the API, a message on the form that keeps the text), never cut."""

from __future__ import annotations

import ast
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from app.models import Comment, Proposal
from app.schemas import COMMENT, DESCRIPTION, TITLE
from tests.conftest import ROOT
from tests.helpers import csrf, page_login, run
from tests.proposals.conftest import API, open_cycle, proposal_body, propose

SHORT = {"title": "修路", "description": "社区老人吃饭不方便"}
TEN_THOUSAND = "社区食堂" * 2500  # 10,000 characters


@pytest.fixture(autouse=True)
def fresh_rate_limits(client):
    client.portal.call(client.app.state.rate_limits.limiter.storage.reset)


@pytest.fixture
def cycle_id(client, world) -> str:
    return open_cycle(client, world)


def count(client, model) -> int:
    return run(client, lambda s: s.scalar(select(func.count()).select_from(model)))


def page_form(client, **overrides) -> dict:
    return {"csrftoken": csrf(client), "category": "交通出行", "location_code": "jinshun",
            "place": "金顺镇", "estimated_cost_wan": "", **overrides}


def textarea(html: str, name: str) -> str:
    """The text a textarea shows, unescaped."""
    match = re.search(rf'<textarea[^>]* name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1))


def test_the_limits_fit_chinese_text():
    assert len("修路") >= TITLE.min and len("社区老人吃饭不方便") >= DESCRIPTION.min
    assert DESCRIPTION.max >= 5000 and TITLE.max >= 100 and COMMENT.max >= 2000


def test_a_two_character_title_and_a_short_description_are_accepted_on_the_api(
        client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals", json=proposal_body(**SHORT),
                    headers=world.headers("resident"))
    assert r.status_code == 201, r.text
    p = client.get(f"{API}/proposals/{r.json()['id']}").json()
    assert (p["title"], p["description"]) == ("修路", "社区老人吃饭不方便")


def test_a_two_character_title_and_a_short_description_are_accepted_on_the_page(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    r = client.post(f"/cycles/{cycle_id}/proposals/new", data=page_form(client, **SHORT),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "修路" in page and "社区老人吃饭不方便" in page


def test_a_description_of_several_thousand_characters_is_stored_whole(client, world, cycle_id):
    long = "老旧小区没有电梯，" * 500  # 4,500 characters
    r = client.post(f"{API}/cycles/{cycle_id}/proposals",
                    json=proposal_body(description=long), headers=world.headers("resident"))
    assert r.status_code == 201, r.text
    assert client.get(f"{API}/proposals/{r.json()['id']}").json()["description"] == long


def test_a_ten_thousand_character_description_is_422_on_the_api_and_nothing_is_stored(
        client, world, cycle_id):
    r = client.post(f"{API}/cycles/{cycle_id}/proposals",
                    json=proposal_body(description=TEN_THOUSAND), headers=world.headers("resident"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_field"
    assert "description" in r.json()["detail"]
    assert count(client, Proposal) == 0


def test_a_ten_thousand_character_description_is_refused_on_the_page_and_kept_in_the_form(
        client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    r = client.post(f"/cycles/{cycle_id}/proposals/new",
                    data=page_form(client, title="修路", description=TEN_THOUSAND))
    assert r.status_code == 422
    assert f"「具体内容」太长：最多 {DESCRIPTION.max} 字，现有 10000 字" in r.text
    assert textarea(r.text, "description") == TEN_THOUSAND  # every character is still there
    assert 'value="修路"' in r.text
    assert count(client, Proposal) == 0


def test_a_title_over_the_limit_says_the_limit_and_its_length(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "gov-staff")
    title = "路" * (TITLE.max + 20)
    r = client.post(f"/cycles/{cycle_id}/proposals/new", data=page_form(
        client, title=title, description="社区老人吃饭不方便", channel="hotline",
        proposer_name="王阿姨"))
    assert r.status_code == 422
    assert f"「标题」太长：最多 {TITLE.max} 字，现有 {TITLE.max + 20} 字" in r.text
    assert f'value="{title}"' in r.text and count(client, Proposal) == 0


def test_line_breaks_posted_by_a_form_count_as_one_character(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    r = client.post(f"/cycles/{cycle_id}/proposals/new", data=page_form(
        client, title="修路", description="路面坏了\r\n下雨积水"), follow_redirects=False)
    assert r.status_code == 303
    pid = r.headers["location"].split("/")[-1].split("?")[0]
    assert client.get(f"{API}/proposals/{pid}").json()["description"] == "路面坏了\n下雨积水"


def test_the_form_fields_have_live_counters_and_no_maxlength_that_cuts_a_paste(client, world):
    cycle_id = open_cycle(client, world)
    page_login(client, "resident")
    html = client.get(f"/cycles/{cycle_id}/proposals/new").text
    for name, limit in (("title", TITLE.max), ("description", DESCRIPTION.max)):
        tag = re.search(rf'<(?:input|textarea) id="{name}"[^>]*>', html).group(0)
        assert "maxlength" not in tag and f'data-max="{limit}"' in tag
    assert '<script src="/static/forms.js" defer></script>' in html
    assert client.get("/static/forms.js").status_code == 200


def test_a_comment_over_the_limit_is_refused_with_its_text_kept(client, world, cycle_id):
    pid = propose(client, world, cycle_id)
    page_login(client, "deputy")
    body = "食堂" * COMMENT.max  # twice the limit
    r = client.post(f"/proposals/{pid}/comments", data={"csrftoken": csrf(client), "body": body})
    assert r.status_code == 422
    assert f"「评论」太长：最多 {COMMENT.max} 字，现有 {2 * COMMENT.max} 字" in r.text
    assert textarea(r.text, "body") == body and count(client, Comment) == 0
    r = client.post(f"/proposals/{pid}/comments", data={"csrftoken": csrf(client), "body": "好"},
                    follow_redirects=False)
    assert r.status_code == 303 and count(client, Comment) == 1


# ------------------------------------------------------------------ no page view cuts text

VIEWS = sorted(p for p in (ROOT / "app").rglob("*views*.py"))
# Where user input enters a view: a posted form or query read, a str() of it, a request field.
SOURCE_CALLS = {"get", "getlist", "form", "json", "body"}
SOURCE_ATTRIBUTES = {"query_params", "path_params", "cookies", "headers"}
# Slices that do not cut what anyone typed before it is stored (function → why).
ALLOWED = {
    ("app/projects/staff_views.py", "_split_last"): "splits a line at its last | and keeps all",
}


def _is_source(node: ast.AST, tainted: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Attribute) and func.attr in SOURCE_CALLS:
                return True
            if isinstance(func, ast.Name) and func.id == "str":
                return True
        if isinstance(sub, ast.Attribute) and sub.attr in SOURCE_ATTRIBUTES:
            return True
    return False


def _targets(node: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]


def _tainted_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters typed str and every name assigned from user input, followed to a fixpoint."""
    args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
    tainted = {a.arg for a in args if a.annotation is not None
               and "str" in ast.unparse(a.annotation)}
    while True:
        before = len(tainted)
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value \
                    is not None and _is_source(node.value, tainted):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    tainted.update(_targets(t))
            elif isinstance(node, ast.For | ast.comprehension) and _is_source(node.iter, tainted):
                tainted.update(_targets(node.target))
            elif isinstance(node, ast.NamedExpr) and _is_source(node.value, tainted):
                tainted.add(node.target.id)
        if len(tainted) == before:
            return tainted


def _cuts(source: str, rel: str) -> list[str]:
    """Each slice of user input in the module `rel` (outside ALLOWED)."""
    tree = ast.parse(source)
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or (rel, fn.name) in ALLOWED:
            continue
        tainted = _tainted_names(fn)
        for node in ast.walk(fn):
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) \
                    and _is_source(node.value, tainted):
                found.append(f"{rel}:{node.lineno} {fn.name}: {ast.unparse(node)}")
    return found


def test_the_check_finds_the_cuts_it_is_meant_to_find():
    code = ('async def submit(request, title: str, page: int = 1):\n'
            '    form = await request.form()\n'
            '    values = {k: str(form.get(k, ""))[:2000] for k in ("a",)}\n'
            '    body = form.get("body")\n'
            '    text = body.strip()\n'
            '    rows = [1, 2, 3][:page]\n'
            '    return values, text[:500], title[:60], [x for x in form.getlist("i")][:9], rows\n')
    cuts = _cuts(code, "app/x/views.py")
    assert [c.split(": ", 1)[1] for c in cuts] == [
        "str(form.get(k, ''))[:2000]", "text[:500]", "title[:60]",
        "[x for x in form.getlist('i')][:9]"], cuts


def test_no_page_view_cuts_posted_text():
    assert len(VIEWS) > 10
    cuts = [c for path in VIEWS
            for c in _cuts(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())]
    assert not cuts, "refuse text over a limit with a message instead of slicing it:\n" + \
        "\n".join(cuts)
