"""ReasonOps service kit: what every service is built on.

The names below are imported when first used, so a client that needs one module (the
CLI's connection needs the broker, the claims and the settings) does not pay for the
store, the delivery loop and the service they would bring in.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock, FrozenClock, SystemClock
    from .delivery import Delivery
    from .errors import DomainError, IllegalTransition, NotFound
    from .lifecycle import run
    from .routing import EventRouter, Refused, envelope_of
    from .service import Service
    from .settings import ServiceSettings
    from .store import Store, Transaction, UtcDateTime
    from .timers import Timer

_HOMES = {
    "Clock": "clock", "FrozenClock": "clock", "SystemClock": "clock",
    "Delivery": "delivery",
    "run": "lifecycle",
    "EventRouter": "routing", "Refused": "routing", "envelope_of": "routing",
    "DomainError": "errors", "IllegalTransition": "errors", "NotFound": "errors",
    "Service": "service",
    "ServiceSettings": "settings",
    "Store": "store", "Transaction": "store", "UtcDateTime": "store",
    "Timer": "timers",
}

__all__ = [
    "Clock",
    "Delivery",
    "DomainError",
    "EventRouter",
    "FrozenClock",
    "IllegalTransition",
    "NotFound",
    "Refused",
    "Service",
    "ServiceSettings",
    "Store",
    "SystemClock",
    "Timer",
    "Transaction",
    "UtcDateTime",
    "envelope_of",
    "run",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # found once; later lookups do not come here
    return value
