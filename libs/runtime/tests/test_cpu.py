"""A service's CPU priority: its own nice value and, under autogroup scheduling, its
session's. Each case runs in a process of its own session, as ``reasonops up`` starts a
service: lowering the test process's own group would slow the rest of the suite."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from reasonops_runtime import cpu
from reasonops_runtime.settings import DEFAULT_CPU_NICE, ServiceSettings

AUTOGROUP = Path("/proc/self/autogroup")
needs_linux = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no nice values")

PROBE = """
import os, sys
from reasonops_runtime.cpu import yield_cpu
thread = yield_cpu(int(sys.argv[1]))
if thread is not None:
    thread.join()
group = open("/proc/self/autogroup").read().split()[-1] if os.path.exists(
    "/proc/self/autogroup") else "none"
print(os.getpriority(os.PRIO_PROCESS, 0), group)
"""


def run_probe(nice: int, *, start_at: int = 0) -> tuple[int, str]:
    def before() -> None:
        if start_at:
            os.nice(start_at)
            if AUTOGROUP.exists():
                AUTOGROUP.write_text(str(start_at))

    out = subprocess.run([sys.executable, "-c", PROBE, str(nice)], capture_output=True,
                         text=True, check=True, timeout=60, start_new_session=True,
                         preexec_fn=before).stdout.split()
    return int(out[0]), out[1]


@needs_linux
def test_a_service_lowers_its_own_priority_and_its_sessions():
    own, group = run_probe(7)
    assert own == 7
    assert group in ("7", "none")


@needs_linux
def test_nothing_changes_at_zero_and_a_lower_priority_is_never_raised():
    assert run_probe(0) == (0, "0" if AUTOGROUP.exists() else "none")
    own, group = run_probe(5, start_at=12)
    assert own == 12
    assert group in ("12", "none")


class Group:
    """An autogroup file whose kernel is busy for the first writes (``EAGAIN``: another
    process changed a group less than 100 ms ago)."""

    def __init__(self, busy: int) -> None:
        self.busy, self.value, self.writes = busy, 0, 0

    def exists(self) -> bool:
        return True

    def read_text(self) -> str:
        return f"/autogroup-42 nice {self.value}\n"

    def write_text(self, text: str) -> int:
        self.writes += 1
        if self.writes <= self.busy:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        self.value = int(text)
        return len(text)


def test_the_group_is_set_after_the_kernel_was_busy(monkeypatch):
    monkeypatch.setattr(cpu.time, "sleep", lambda _: None)
    group = Group(busy=3)
    cpu._set_group(group, 19)  # type: ignore[arg-type]
    assert (group.value, group.writes) == (19, 4)


def test_a_group_already_lower_is_left_alone():
    group = Group(busy=0)
    group.value = 19
    cpu._set_group(group, 5)  # type: ignore[arg-type]
    assert (group.value, group.writes) == (19, 0)


def test_a_busy_kernel_is_given_up_on_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(cpu.time, "sleep", lambda _: None)
    group = Group(busy=cpu.TRIES)
    cpu._set_group(group, 19)  # type: ignore[arg-type]
    assert group.value == 0
    assert "cpu priority of the process group unchanged" in caplog.text


def test_the_edge_keeps_its_share_and_the_rest_yields(monkeypatch):
    monkeypatch.delenv("REASONOPS_CPU_NICE", raising=False)
    nice = {name: ServiceSettings(service_name=name).nice() for name in DEFAULT_CPU_NICE}
    assert {n for n, v in nice.items() if v == 0} == {"ingest", "incidents", "gateway"}
    assert nice["orchestrator"] < nice["agent-rca"]
    assert ServiceSettings(service_name="unknown").nice() == 0
    monkeypatch.setenv("REASONOPS_CPU_NICE", "3")
    assert ServiceSettings(service_name="agent-rca").nice() == 3


def test_a_nice_value_out_of_range_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("REASONOPS_CPU_NICE", "25")
    with pytest.raises(ValidationError, match="cpu_nice"):
        ServiceSettings(service_name="slm")
