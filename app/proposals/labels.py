"""Proposal state and channel names for the pages of every domain that shows proposals."""

from __future__ import annotations

from app.workflows.proposal import CHANNELS, STATE_LABELS


def labels_ctx() -> dict:
    """State and channel names for the templates (translated there with _())."""
    return {"STATE_LABELS": {str(k): v for k, v in STATE_LABELS.items()}, "CHANNELS": CHANNELS}
