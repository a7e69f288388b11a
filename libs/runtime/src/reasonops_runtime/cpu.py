"""A service's share of the CPU beside the other services of one host.

Linux schedules processes by *autogroup* when ``kernel.sched_autogroup_enabled`` is on
(the default of most distributions): every session is one group, and the groups share the
CPU equally whatever their processes' nice values. ``reasonops up`` starts each service
as the leader of its own session, so a process's own nice value weighs only against its
own threads; what weighs against the other services is its group's nice value
(``/proc/self/autogroup``). ``yield_cpu`` lowers both.

Lowering a priority needs no privilege. An unprivileged process may change an autogroup's
value only once in 100 ms across the whole system (the kernel answers ``EAGAIN`` until
then), and a stack starts many services at once: the write is retried from a thread, so
the service starts meanwhile.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")
TRIES = 50
"""Autogroup writes tried, 20-120 ms apart (a stack of 14 services needs about 1.4 s)."""


def yield_cpu(nice: int) -> threading.Thread | None:
    """Run this process at ``nice`` (0 = as started; up to 19, the lowest priority).

    Sets the calling thread's value (threads started later inherit it; call before any)
    and, where the kernel groups processes by session, the group's. Returns the thread
    that sets the group's value, if one was started."""
    if nice <= 0 or not hasattr(os, "setpriority"):  # Windows has no nice values
        return None
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
    except OSError as exc:  # pragma: no cover - lowering needs no privilege
        log.warning("cpu priority unchanged", extra={"nice": nice, "error": repr(exc)})
    if not AUTOGROUP.exists():
        log.info("cpu priority lowered", extra={"nice": nice})
        return None
    thread = threading.Thread(target=_set_group, args=(AUTOGROUP, nice),
                              name="cpu-priority", daemon=True)
    thread.start()
    return thread


def _set_group(autogroup: Path, nice: int) -> None:
    why = _lower_group(autogroup, nice)
    if why is None:
        log.info("cpu priority lowered", extra={"nice": nice, "group": True})
    elif isinstance(why, OSError) and why.errno in (errno.EPERM, errno.EACCES, errno.EROFS):
        # A container, say: its cgroup's weight (the CPU request) decides instead.
        log.info("cpu priority of the process group left to the host",
                 extra={"nice": nice, "error": repr(why)})
    else:
        log.warning("cpu priority of the process group unchanged",
                    extra={"nice": nice, "error": repr(why) if isinstance(why, OSError)
                           else why})


def _lower_group(autogroup: Path, nice: int) -> OSError | str | None:
    """None once the group's value is ``nice`` or lower, else why it is not."""
    for _ in range(TRIES):
        try:
            if int(autogroup.read_text().rsplit("nice", 1)[1]) < nice:
                autogroup.write_text(str(nice))
            return None
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                return exc
        except (IndexError, ValueError):  # not the format this module knows
            return f"unreadable {autogroup}"
        time.sleep(random.uniform(0.02, 0.12))
    return "the kernel kept answering EAGAIN"
