"""``reasonops up`` stopping: a service that outlives its grace period is killed, and said."""

from __future__ import annotations

import subprocess
import sys

from reasonops_cli import supervisor as supervising
from reasonops_cli.supervisor import Supervisor

DEAF = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)")
OBEDIENT = "import sys, time; print('ready', flush=True); time.sleep(60)"


def started(program: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    return process


def test_a_service_that_ignores_sigterm_is_killed_and_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(supervising, "STOP_GRACE_SECONDS", 0.5)
    stack = Supervisor(data_dir=tmp_path, nats_url="nats://127.0.0.1:1", nats_port=0,
                       nats_monitor_port=0, ports={"deaf": 1, "obedient": 2})
    deaf, obedient = stack.children
    deaf.process, obedient.process = started(DEAF), started(OBEDIENT)

    stack.stop()

    assert (deaf.process.returncode, obedient.process.returncode) == (-9, -15)
    reported = capsys.readouterr().err
    assert f"deaf had not stopped 0.5s after SIGTERM; killed (log: {deaf.log_path})" in reported
    assert "obedient" not in reported

