"""The web console served by the gateway at ``/``: server-rendered pages over the REST
API with the browser's own token (ADR 37)."""

from .pages import Console

__all__ = ["Console"]
