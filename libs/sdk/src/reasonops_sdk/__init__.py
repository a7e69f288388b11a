"""ReasonOps' Python SDK: the REST API as typed calls.

    from reasonops_sdk import ReasonOpsClient
    client = ReasonOpsClient()   # REASONOPS_URL / REASONOPS_TOKEN, or arguments
    dashboard = client.get_dashboard(); print(dashboard.services, dashboard.offerings)

``AsyncReasonOpsClient`` has the same calls as coroutines. Both retry 429 and 503 as
``Retry-After`` says, page through lists (``iter_incidents``, ``iter_entries``), and
raise ``ApiError`` carrying the problem document.
"""

from .aio import AsyncReasonOpsClient
from .calls import DEFAULT_URL
from .client import ReasonOpsClient
from .errors import ApiError, ReasonOpsError, TransportError

__all__ = ["DEFAULT_URL", "ApiError", "AsyncReasonOpsClient", "ReasonOpsClient",
           "ReasonOpsError", "TransportError"]
