"""Dynamic messages in the visitor's script (issue 15): a refusal's sentence, a notification, a
sentence built in code reach a zh_Hant page in traditional characters, by one way only — the
templates' `|in_script` filter (app/i18n.py in_script). A structural test fails on a template
that shows such a message without it."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import nodes
from markupsafe import Markup

from app.i18n import current_locale, in_script
from app.pages.render import env
from tests.helpers import csrf, page_login
from tests.jurisdictions.test_settings_pages import PAGE as SETTINGS
from tests.jurisdictions.test_settings_pages import post as post_settings
from tests.jurisdictions.test_settings_pages import setting_block, whole_form
from tests.projects.helpers import announced_projects, set_project
from tests.proposals.conftest import API, open_cycle, propose

# ---------------------------------------------------------------- messages that missed the script


def test_a_congress_session_refusal_on_the_cycle_page_is_traditional(client, world):
    """The phase panel's refusal (`session_error`) was shown as the service wrote it."""
    r = client.post(f"{API}/cycles", headers=world.headers("gov_staff"), json={
        "jurisdiction_code": "lezhi", "year": 2025, "title": "乐至县2025年民生实事项目",
        "seats": 3})
    cycle_id = r.json()["id"]
    page_login(client, world.users["congress_staff"].username)
    client.cookies.set("lang", "zh_Hant")
    r = client.post(f"/cycles/{cycle_id}/congress-session",
                    data={"congress_session": "第五次会议", "csrftoken": csrf(client)})
    assert r.status_code == 422
    assert "請填寫人代會會議的全稱" in r.text and "请填写人代会会议的全称" not in r.text


def test_a_notification_in_the_inbox_is_traditional(client, world):
    """Notifications are sentences built in code and stored as written (simplified)."""
    cycle_id = open_cycle(client, world)
    pid = propose(client, world, cycle_id)
    r = client.post(f"{API}/proposals/{pid}/review", json={"decision": "accept"},
                    headers=world.headers("gov_staff"))
    assert r.status_code == 200, r.text
    page_login(client, "resident")
    client.cookies.set("lang", "zh_Hant")
    inbox = client.get("/inbox").text
    assert "已採納入庫：進入儲備庫" in inbox and "已采纳入库：进入储备库" not in inbox
    # The JSON API answers the message as stored.
    stored = client.get(f"{API}/users/me/notifications", headers=world.headers("resident")).json()
    assert "已采纳入库：进入储备库" in stored["items"][0]["message"]


def test_the_settings_pages_problems_are_traditional(client, world):
    """A setting's problems and the missing reason (lists of the service's sentences)."""
    page_login(client, "congress-staff")
    client.cookies.set("lang", "zh_Hant")
    page = client.get(SETTINGS).text
    r = post_settings(client, whole_form(page, red_gap_points="5"))
    assert r.status_code == 422
    assert "黃色督辦線（10）須低於紅色督辦線（5）" in setting_block(r.text, "red_gap_points")
    assert 'id="reason-error">請填寫修改原因' in r.text


def test_a_triage_refusal_is_traditional_on_the_page_and_in_the_htmx_item(client, world):
    """The triage item's refusal (`item_error`, or the failed item's `error`)."""
    cycle_id = open_cycle(client, world)
    pid = propose(client, world, cycle_id)
    page_login(client, "gov-staff")
    client.cookies.set("lang", "zh_Hant")
    data = {"csrftoken": csrf(client), "decision": "reject", "reason": ""}
    for headers in ({}, {"HX-Request": "true"}):
        r = client.post(f"/staff/proposals/{pid}/review", data=data, headers=headers)
        assert r.status_code == 422
        assert "不予採納須說明理由" in r.text and "不予采纳须说明理由" not in r.text, headers


def test_why_a_plan_form_is_closed_is_traditional(client, world):
    """The plan form's refusal to open (`closed_error`, once shown as `closed`)."""
    _, (pid, _) = announced_projects(client, world)
    set_project(client, pid, state="terminated")
    page_login(client, world.users["gov_staff"].username)
    client.cookies.set("lang", "zh_Hant")
    r = client.get(f"/staff/projects/{pid}/plan")
    assert r.status_code == 409
    assert "該項目已終止或已驗收" in r.text and "该项目已终止或已验收" not in r.text


# ---------------------------------------------------------------- the structure

# A dynamic message is named so in a page's context: `error`, `errors`, `message`, `advice`,
# `problems`, `zh`, or a name ending in `_error`, `_errors` or `_message` (`unit_error`), also
# as an attribute or key (`card.error`, `n.message`, `p.zh`, `errors.page`) or an item of such a
# list (`{% for p in problems %}{{ p }}`).
_MESSAGE = re.compile(r"^(error|errors|message|advice|problems|zh)$|_(error|errors|message)$")
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _names_a_message(node: nodes.Node, items: frozenset[str]) -> bool:
    if isinstance(node, nodes.Name):
        return bool(_MESSAGE.search(node.name)) or node.name in items
    base = isinstance(node.node, nodes.Name) and bool(_MESSAGE.search(node.node.name))
    if isinstance(node, nodes.Getattr):
        return bool(_MESSAGE.search(node.attr)) or base
    key = node.arg.value if isinstance(node.arg, nodes.Const) else None
    return (isinstance(key, str) and bool(_MESSAGE.search(key))) or base


def _unconverted(node: nodes.Node, items: frozenset[str]) -> list[str]:
    """The messages an output expression shows without `|in_script`. A call (`_()` of a catalog
    string, a macro, which checks its own output) is not looked into."""
    if isinstance(node, nodes.Filter) and node.name == "in_script":
        return []
    if isinstance(node, nodes.Call):
        return []
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        return [_source(node)] if _names_a_message(node, items) else []
    return [m for child in node.iter_child_nodes() for m in _unconverted(child, items)]


def _source(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_source(node.node)}.{node.attr}"
    return f"{_source(node.node)}[…]"


def _walk(node: nodes.Node, items: frozenset[str]) -> list[tuple[int, str]]:
    if isinstance(node, nodes.Output):
        return [(node.lineno, m) for expr in node.nodes for m in _unconverted(expr, items)]
    if isinstance(node, nodes.For):
        inner = items
        if isinstance(node.iter, nodes.Name | nodes.Getattr | nodes.Getitem) and \
                _names_a_message(node.iter, items):
            targets = [node.target, *node.target.find_all(nodes.Name)]
            inner = items | {n.name for n in targets if isinstance(n, nodes.Name)}
        return ([f for child in node.body for f in _walk(child, inner)]
                + [f for child in node.else_ for f in _walk(child, items)])
    return [f for child in node.iter_child_nodes() for f in _walk(child, items)]


def test_every_template_puts_dynamic_messages_into_the_visitors_script():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(TEMPLATES)}:{line} {{{{ {name} }}}}"
                  for line, name in _walk(tree, frozenset())]
    assert found == [], "shown without |in_script:\n" + "\n".join(found)


def test_the_structure_test_sees_what_it_should():
    def seen(source: str) -> list[str]:
        return [name for _, name in _walk(env.parse(source), frozenset())]

    assert seen("{{ error }}{{ card.error }}{{ errors.page }}{{ n.message }}") == [
        "error", "card.error", "errors.page", "n.message"]
    assert seen("{{ r.errors|join('；') }}{{ unit_error or 'x' }}") == ["r.errors", "unit_error"]
    assert seen("{% for p in problems %}{{ p }}{{ p.column }}{% endfor %}") == ["p"]
    assert seen("{{ error|in_script }}{{ r.errors|join('；')|in_script }}{{ _(message) }}"
                "{{ title }}{{ NOTICE_TEXT[notice] }}{{ box(error=error) }}") == []


def test_in_script_converts_on_traditional_pages_only():
    token = current_locale.set("zh_Hant")
    try:
        assert in_script("请填写标题。") == "請填寫標題。"
        assert in_script(Markup("<b>请</b>")) == Markup("<b>請</b>")
        assert in_script(None) is None and in_script("") == "" and in_script(3) == 3
    finally:
        current_locale.reset(token)
    assert in_script("请填写标题。") == "请填写标题。"
