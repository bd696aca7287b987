"""The workflow engine on its own: any entity, its table, its guards, its records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, Invalid
from app.models import AuditEntry, Jurisdiction
from app.workflows.engine import Transition, Workflow, history
from tests.helpers import run


class Lamp(StrEnum):
    off = "off"
    on = "on"
    broken = "broken"


@dataclass
class Thing:
    id: str
    state: str


@dataclass
class Person:
    id: str
    username: str
    role: str


async def _not_if_named_fragile(session, thing, reason):
    return ("this one is fragile", "易碎") if thing.id == "fragile" else None


LAMP = Workflow(entity_type="lamp", states=Lamp, transitions=[
    Transition(Lamp.off, Lamp.on, frozenset({"gov_staff"}), _not_if_named_fragile),
    Transition(Lamp.on, Lamp.off, frozenset({"gov_staff"})),
    Transition(Lamp.on, Lamp.broken, frozenset({"congress_staff"}), reason_required=True),
])
STAFF = Person("u1", "staffer", "gov_staff")


class FakeSession:
    """Enough of a session for the engine when the entity is not a table row."""

    def __init__(self, real):
        self.real = real

    def add(self, obj):
        if not isinstance(obj, Thing):
            self.real.add(obj)

    async def flush(self):
        await self.real.flush()

    def __getattr__(self, name):
        return getattr(self.real, name)


def apply(client, thing, target, actor=STAFF, reason=""):
    async def go(session):
        return await LAMP.apply(FakeSession(session), thing, target, actor=actor, reason=reason)

    return run(client, go)


def test_an_allowed_move_changes_state_and_is_recorded_twice(client):
    thing = Thing("t1", "off")
    apply(client, thing, "on", reason="天黑了")
    assert thing.state == "on"
    rows = run(client, lambda s: history(s, "lamp", "t1"))
    assert [(r.from_state, r.to_state, r.actor_username, r.reason) for r in rows] == [
        ("off", "on", "staffer", "天黑了")]
    audit = run(client, lambda s: s.scalar(select(AuditEntry).where(
        AuditEntry.entity_type == "lamp")))
    assert audit.action == "lamp.transition" and '"reason":"天黑了"' in audit.data


def test_a_move_not_in_the_table_is_409_and_says_where_it_can_go(client):
    thing = Thing("t2", "off")
    with pytest.raises(Conflict, match="it can go to: on"):
        apply(client, thing, "broken")
    assert thing.state == "off"


def test_a_final_state_says_so(client):
    with pytest.raises(Conflict, match="final"):
        apply(client, Thing("t3", "broken"), "off")


def test_the_wrong_role_is_403_and_admins_may_act(client):
    with pytest.raises(Forbidden):
        apply(client, Thing("t4", "off"), "on", actor=Person("u2", "deputy", "deputy"))
    thing = Thing("t5", "off")
    apply(client, thing, "on", actor=Person("u3", "root", "admin"))
    assert thing.state == "on"


def test_a_failing_guard_is_409_with_both_languages_and_nothing_recorded(client):
    thing = Thing("fragile", "off")
    with pytest.raises(Conflict) as caught:
        apply(client, thing, "on")
    assert caught.value.message == "this one is fragile" and caught.value.zh == "易碎"
    assert thing.state == "off"
    assert run(client, lambda s: history(s, "lamp", "fragile")) == []


def test_a_required_reason_must_be_given(client):
    with pytest.raises(Invalid):
        apply(client, Thing("t6", "on"), "broken", actor=Person("u4", "c", "congress_staff"))


def test_an_unknown_state_is_422(client):
    with pytest.raises(Invalid):
        apply(client, Thing("t7", "off"), "exploded")


def test_moves_for_a_role_come_from_the_table():
    assert [t.target for t in LAMP.allowed_for("on", "gov_staff")] == [Lamp.off]
    assert [t.target for t in LAMP.allowed_for("on", "congress_staff")] == [Lamp.broken]
    assert LAMP.allowed_for("broken", "gov_staff") == []


async def _unless_a_reason_is_given(session, thing, reason):
    return None if reason else ("say why it is unplugged", "请说明拔掉电源的理由")


PLUG = Workflow(entity_type="plug", states=Lamp, transitions=[
    Transition(Lamp.on, Lamp.off, frozenset({"gov_staff"}), _unless_a_reason_is_given),
    Transition(Lamp.off, Lamp.on, frozenset({"gov_staff"}), _not_if_named_fragile),
])


def test_a_guard_sees_the_stripped_reason(client):
    async def go(session, thing, target, reason):
        return await PLUG.apply(FakeSession(session), thing, target, actor=STAFF, reason=reason)

    thing = Thing("p1", "on")
    for blank in ("", "   "):
        with pytest.raises(Conflict) as caught:
            run(client, go, thing, "off", blank)
        assert caught.value.zh == "请说明拔掉电源的理由" and thing.state == "on"
    run(client, go, thing, "off", "  检修线路 ")
    assert thing.state == "off"
    rows = run(client, lambda s: history(s, "plug", "p1"))
    assert [(r.from_state, r.to_state, r.reason) for r in rows] == [("on", "off", "检修线路")]
    # a guard that does not need the reason is called the same way
    run(client, go, thing, "on", "")
    assert thing.state == "on"


# ------------------------------------------------------------------ moves_for: what a page shows

async def _not_while_a_jurisdiction_exists(session, thing, reason):
    # reads the database, as real guards do (quorum, 差额 rule)
    n = await session.scalar(select(func.count()).select_from(Jurisdiction).where(
        Jurisdiction.code == "lamp-test"))
    return ("a jurisdiction is in the way", "有行政区域挡路") if n else None


BULB = Workflow(entity_type="bulb", states=Lamp, transitions=[
    Transition(Lamp.off, Lamp.on, frozenset({"gov_staff"}), _not_while_a_jurisdiction_exists),
    Transition(Lamp.on, Lamp.off, frozenset({"gov_staff"})),
    Transition(Lamp.on, Lamp.broken, frozenset({"congress_staff"}), _not_if_named_fragile,
               reason_required=True),
])


def moves_for(client, workflow, thing, actor=STAFF, reason=""):
    async def go(session):
        return await workflow.moves_for(FakeSession(session), thing, actor, reason=reason)

    return run(client, go)


def test_moves_for_lists_the_moves_a_role_may_make_now_with_the_guards_answer(client):
    # allowed: the table's move for the role, its guard agreeing
    (move,) = moves_for(client, BULB, Thing("b1", "off"))
    assert move.target == Lamp.on and move.allowed and move.refusal is None
    # refused by role: another role's moves are not listed; a deputy has none
    assert [m.target for m in moves_for(client, BULB, Thing("b2", "on"))] == [Lamp.off]
    assert moves_for(client, BULB, Thing("b2", "on"), Person("u5", "d", "deputy")) == []
    assert moves_for(client, BULB, Thing("b3", "broken")) == []  # final
    # refused by guard: listed, with the guard's sentences, not allowed
    (move,) = moves_for(client, BULB, Thing("fragile", "on"), Person("u6", "c", "congress_staff"))
    assert move.target == Lamp.broken and not move.allowed
    assert move.refusal == ("this one is fragile", "易碎")
    # a required reason is the form's business: the move is open without it
    (move,) = moves_for(client, BULB, Thing("b4", "on"), Person("u6", "c", "congress_staff"))
    assert move.allowed and move.transition.reason_required
    # an admin may make every move, as apply() lets them
    assert [m.target for m in moves_for(client, BULB, Thing("b5", "on"),
                                        Person("u7", "root", "admin"))] == [Lamp.off, Lamp.broken]


def test_moves_for_passes_the_reason_to_the_guards(client):
    (move,) = moves_for(client, PLUG, Thing("p2", "on"))
    assert move.refusal == ("say why it is unplugged", "请说明拔掉电源的理由")
    (move,) = moves_for(client, PLUG, Thing("p2", "on"), reason="  检修线路 ")
    assert move.allowed


def test_moves_for_changes_flushes_and_records_nothing(client):
    thing = Thing("b6", "off")

    async def go(session):
        pending = Jurisdiction(code="lamp-test", name="挡路", level="county")
        session.add(pending)  # a change of the request not yet flushed
        (move,) = await BULB.moves_for(FakeSession(session), thing, STAFF)
        # the guard's query did not flush it (else it would have seen it and refused)
        assert move.allowed and pending in session.new
        session.expunge(pending)
        return move

    run(client, go)
    assert thing.state == "off"
    assert run(client, lambda s: history(s, "bulb", "b6")) == []
    assert run(client, lambda s: s.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.entity_type == "bulb"))) == 0
    assert run(client, lambda s: s.get(Jurisdiction, "lamp-test")) is None
