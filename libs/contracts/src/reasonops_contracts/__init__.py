"""ReasonOps contracts: the only vocabulary services share.

Events (past tense), commands (imperative) and queries, the envelope they travel in,
the subjects they travel on and the streams that keep them.
"""

from .envelope import MSG_ID_HEADER, Envelope
from .ids import incident_number, new_id
from .messages import Command, Event, Query, View
from .replies import ErrorDetail, Reply, ReplyError

__all__ = [
    "MSG_ID_HEADER",
    "Command",
    "Envelope",
    "ErrorDetail",
    "Event",
    "Query",
    "Reply",
    "ReplyError",
    "View",
    "incident_number",
    "new_id",
]
