"""ReasonOps service kit: what every service is built on."""

from .clock import Clock, FrozenClock, SystemClock
from .delivery import Delivery
from .lifecycle import run
from .routing import EventRouter, Refused, envelope_of
from .rpc import DomainError, IllegalTransition, NotFound
from .service import Service
from .settings import ServiceSettings
from .store import Store, Transaction, UtcDateTime
from .timers import Timer

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
