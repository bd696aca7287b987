"""Number formats shared by the pages of several domains."""

from __future__ import annotations

from decimal import Decimal


def wan(value) -> str:
    """万元 without trailing zeros: 4680.00 → 4680, 12.50 → 12.5."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
