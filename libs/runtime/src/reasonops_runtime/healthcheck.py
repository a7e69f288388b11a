"""``python -m reasonops_runtime.healthcheck``: the container image's HEALTHCHECK.

Asks the service in this container for ``/healthz``. The port is
``REASONOPS_HTTP_PORT``, else the default port of the service named on the
container's command line (``reasonops run <service>``). Exit 0 when healthy.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from .settings import DEFAULT_PORTS


def service_port(cmdline: list[str], env: dict[str, str]) -> int:
    if env.get("REASONOPS_HTTP_PORT"):
        return int(env["REASONOPS_HTTP_PORT"])
    if "run" in cmdline and cmdline.index("run") + 1 < len(cmdline):
        return DEFAULT_PORTS.get(cmdline[cmdline.index("run") + 1], 8080)
    return 8080


def main() -> int:
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes().decode().split("\0")
    except OSError:
        cmdline = []
    port = service_port(cmdline, dict(os.environ))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        sys.stderr.write(f"unhealthy: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
