"""The workflow engine: a table of allowed transitions, one guard each, every move recorded.

Each workflow (cycle phases now; proposals, candidates, ballots and projects next) declares its
states as a StrEnum and its transitions as a table of `Transition(source, target, roles, guard)`.
`Workflow.apply()` is the only way any entity's state changes: it checks the table, the actor's
role and the guard, sets the state, and writes a `StateTransition` row plus an audit entry.
`Workflow.moves_for()` answers, without changing anything, which moves an actor may make now:
pages and templates show what it returns instead of copying the table or its guards.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.errors import Conflict, Forbidden, Invalid
from app.models import StateTransition, utcnow

# A guard is called as `guard(session, entity, reason)` with the transition's stripped reason
# (a stated reason may unlock a move, e.g. announcing a cycle with seats left empty). It returns
# None when the move may go ahead, or (English, Chinese) sentences saying what is missing.
# A guard only reads: moves_for() runs every guard of the moves open to an actor to draw a page.
Guard = Callable[[AsyncSession, Any, str], Awaitable[tuple[str, str] | None]]

# The role that may make every move of every table (besides the roles a transition names).
ADMIN_ROLE = "admin"


class Actor(Protocol):
    id: str
    username: str
    role: str


@dataclass(frozen=True)
class Transition:
    """One allowed move: from `source` to `target`, by one of `roles`, if `guard` agrees."""

    source: StrEnum
    target: StrEnum
    roles: frozenset[str]
    guard: Guard | None = None
    reason_required: bool = False


@dataclass(frozen=True)
class Move:
    """A move the table lets an actor's role make from an entity's state now, with its guard's
    answer: `refusal` is None when the move may be made, else (English, Chinese) saying why not."""

    transition: Transition
    refusal: tuple[str, str] | None = None

    @property
    def target(self) -> StrEnum:
        return self.transition.target

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass
class Workflow:
    """A state machine over one kind of entity (its `entity_type`) with a `state_attr`."""

    entity_type: str
    states: type[StrEnum]
    transitions: Iterable[Transition]
    state_attr: str = "state"
    on_enter: dict[StrEnum, Callable[[Any], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._table = {(t.source, t.target): t for t in self.transitions}

    def targets_from(self, state: str) -> list[Transition]:
        """The moves the table allows from `state`, in table order."""
        return [t for (src, _), t in self._table.items() if src == state]

    def allowed_for(self, state: str, role: str) -> list[Transition]:
        """The moves from `state` that `role` may make (guards not yet checked)."""
        return [t for t in self.targets_from(state) if role in t.roles]

    def permitted(self, state: str, role: str, *, via_admin_role: str = ADMIN_ROLE
                  ) -> list[Transition]:
        """The moves from `state` open to `role`, an admin's being every one (guards not yet
        checked): the role rule of apply(), for pages that list moves."""
        if role == via_admin_role:
            return self.targets_from(state)
        return self.allowed_for(state, role)

    async def moves_for(self, session: AsyncSession, entity: Any, actor: Actor, *,
                        reason: str = "", via_admin_role: str = ADMIN_ROLE) -> list[Move]:
        """Every move the table and `actor`'s role open from `entity`'s state, in table order,
        each with its guard's answer now (run with `reason`), so a page shows what apply()
        would do. Nothing is changed, flushed or recorded: the guards only read, and run with
        autoflush off so a pending change of the session is not written by their queries.
        A required reason is not asked here (the page's form asks for it)."""
        moves = []
        with session.no_autoflush:
            for t in self.permitted(getattr(entity, self.state_attr), actor.role,
                                    via_admin_role=via_admin_role):
                refusal = (await t.guard(session, entity, (reason or "").strip())
                           if t.guard is not None else None)
                moves.append(Move(t, refusal or None))
        return moves

    async def apply(self, session: AsyncSession, entity: Any, target: str, *, actor: Actor,
                    reason: str = "", via_admin_role: str = ADMIN_ROLE) -> StateTransition:
        """Move `entity` to `target`, or raise 409/403/422 saying why not."""
        valid = {s.value for s in self.states}
        if target not in valid:
            raise Invalid(f"'{target}' is not a state of {self.entity_type}; "
                          f"use one of: {', '.join(sorted(valid))}.", code="unknown_state",
                          zh="目标状态不存在。")
        source = getattr(entity, self.state_attr)
        move = self._table.get((self.states(source), self.states(target)))
        if move is None:
            allowed = [t.target.value for t in self.targets_from(source)]
            hint = f"from '{source}' it can go to: {', '.join(allowed)}" if allowed else (
                f"'{source}' is final")
            raise Conflict(f"A {self.entity_type} cannot move from '{source}' to '{target}'; "
                           f"{hint}.", code="illegal_transition",
                           zh="当前状态不能直接进入该状态，请按流程逐步推进。")
        if actor.role not in move.roles and actor.role != via_admin_role:
            raise Forbidden(f"Moving a {self.entity_type} from '{source}' to '{target}' is done by "
                            f"{' or '.join(sorted(move.roles))}.", code="role_not_allowed",
                            zh="这一步应由其他角色办理，您的账号无权操作。")
        reason = (reason or "").strip()
        if move.reason_required and not reason:
            raise Invalid("Give a reason for this step.", code="reason_required",
                          zh="请填写办理理由。")
        if move.guard is not None:
            refusal = await move.guard(session, entity, reason)
            if refusal:
                raise Conflict(refusal[0], code="guard_failed", zh=refusal[1])
        setattr(entity, self.state_attr, self.states(target))
        if hook := self.on_enter.get(self.states(target)):
            hook(entity)
        record = StateTransition(entity_type=self.entity_type, entity_id=entity.id,
                                 from_state=source, to_state=target, actor_id=actor.id,
                                 actor_username=actor.username, at=utcnow(), reason=reason)
        session.add(entity)
        session.add(record)
        await session.flush()
        await audit.record(session, actor=actor.username, action=f"{self.entity_type}.transition",
                           entity_type=self.entity_type, entity_id=entity.id,
                           data={"from": source, "to": target, "reason": reason})
        return record

    async def record_creation(self, session: AsyncSession, entity: Any, *, actor: Actor,
                              reason: str = "") -> StateTransition:
        """Record the entity's first state (from nothing), so its history starts at birth."""
        return (await self.record_creations(session, [entity], actor=actor, reason=reason))[0]

    async def record_creations(self, session: AsyncSession, entities: list[Any], *,
                               actor: Actor, reason: str = "") -> list[StateTransition]:
        """record_creation for many entities made together (an import), in one flush."""
        at = utcnow()
        records = [StateTransition(entity_type=self.entity_type, entity_id=entity.id,
                                   from_state=None, to_state=getattr(entity, self.state_attr),
                                   actor_id=actor.id, actor_username=actor.username, at=at,
                                   reason=reason) for entity in entities]
        session.add_all(records)
        await session.flush()
        return records


async def history(session: AsyncSession, entity_type: str, entity_id: str) -> list[StateTransition]:
    """Every recorded move of one entity, oldest first."""
    rows = await session.scalars(
        select(StateTransition)
        .where(StateTransition.entity_type == entity_type, StateTransition.entity_id == entity_id)
        .order_by(StateTransition.at, StateTransition.id)
    )
    return list(rows)
