"""The templates' filters: a time, a span of seconds and an amount as people read them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def span(seconds: Any) -> str:
    """3725 -> 1 h 2 min; 90000 -> 1 d 1 h; 42 -> 42 s"""
    total = int(float(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{secs} s"


def money(value: Any) -> str:
    """1234.5 -> 1,234.50"""
    try:
        return format(Decimal(str(value)), ",.2f")
    except (InvalidOperation, ValueError):
        return str(value)
