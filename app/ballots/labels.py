"""Ballot state names for the pages, and the cycle page's 票决 section."""

from __future__ import annotations

from app.models import BallotRound
from app.workflows.ballot import STATE_LABELS


def state_labels() -> dict[str, str]:
    """Each ballot state's name (translated in the templates with _())."""
    return {str(k): v for k, v in STATE_LABELS.items()}


def cycle_section(rounds: list[BallotRound]) -> dict:
    """The cycle page's 票决 section: the cycle's rounds (first to last) with state labels."""
    return {"rounds": rounds, "states": state_labels()}
