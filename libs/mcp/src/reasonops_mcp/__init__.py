"""ReasonOps as an MCP server: the tools an on-call assistant needs (find and show
incidents, acknowledge, comment, assign, resolve, SLA status, workflow approvals,
silences, the audit trail, the finance summary) and resources for incidents and reports.

Every tool is a call of the REST API made with the caller's own token (``server``), so
an assistant can do exactly what its person may, and every refusal is the API's. The
gateway serves it at ``/mcp`` (streamable HTTP); ``reasonops mcp`` serves it over stdio
for desktop assistants.
"""

from .server import build_server

__all__ = ["build_server"]
