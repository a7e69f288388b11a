"""Identifiers: sortable unique message ids and human incident numbers."""

from __future__ import annotations

import os
import time

MONTH_PATTERN = r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$"
"""An accounting or reporting month, YYYY-MM (UTC), 1970-2999."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters per 10 bits: 13 table lookups instead of 26 shifts (every event gets an id).
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = tuple(range(120, -1, -10))


def new_id() -> str:
    """Return a ULID: 48-bit millisecond time + 80 random bits, 26 Crockford base32 chars.

    Ids sort by creation time, which keeps outbox relays and logs in causal order.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def incident_number(sequence: int) -> str:
    """Format an incident sequence number the ITSM way: ``INC0000001``."""
    if sequence < 1:
        raise ValueError("incident sequence starts at 1")
    return f"INC{sequence:07d}"
