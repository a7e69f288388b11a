"""Every command in the README, run as written against a running ReasonOps.

The commands are read from the README's ``sh`` blocks (a ``text`` block is output). The
stack is started as ``make up`` starts it (``reasonops up``, see ``stack.py``), on free
ports and in a temporary data directory, so the commands are changed in only those
respects: ``localhost:8081`` is the stack's ingest, ``localhost:8080`` its gateway,
``.reasonops/`` its data directory, ``reasonops`` and ``python`` this interpreter's.
Each runs in bash from the repository root and must succeed; what follows ``#`` on a
line is what the reader should see, and the test checks the parts of it that can be
checked. Commands that read what an earlier one
caused (an incident opening after the alert) are retried until it has happened.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from tests.e2e.stack import ROOT, Stack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOT_RUN_HERE = {
    "make up": "the stack below is started exactly as `make up` starts it, on free ports",
    "make test": "this test is part of that run",
}


def readme_commands() -> list[tuple[str, str]]:
    """(command, what the reader should see) for every line of every ``sh`` block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            command, _, expected = line.partition("  #")
            if command.strip():
                found.append((command.strip(), expected.strip()))
    return found


def as_run_here(command: str, stack: Stack) -> str:
    ingest = stack.url().removeprefix("http://")
    command = command.replace("localhost:8081", ingest)
    command = command.replace("localhost:8080", stack.gateway_url.removeprefix("http://"))
    command = command.replace(".reasonops/", f"{stack.data_dir}/")
    command = command.replace(" python -c ", f" {sys.executable} -c ")  # the virtualenv's
    return re.sub(r"^reasonops ", f"{sys.executable} -m reasonops_cli ", command)


def test_the_readme_has_commands_and_says_which_it_cannot_run_here():
    commands = [c for c, _ in readme_commands()]
    assert set(NOT_RUN_HERE) <= set(commands)
    assert any(c.startswith("curl ") for c in commands)
    assert sum(c.startswith("reasonops ") for c in commands) >= 5


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path / "data")
    stack.start()
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.stop(signal.SIGTERM)


def test_every_readme_command_runs_as_written(stack):
    env = dict(stack.env, NATS_URL=stack.nats_url, REASONOPS_DATA_DIR=str(stack.data_dir))
    for command, expected in readme_commands():
        if command in NOT_RUN_HERE:
            continue

        def ran(command: str = command, expected: str = expected
                ) -> subprocess.CompletedProcess[str] | None:
            wanted = re.findall(r"INC\d{7}", expected)
            result = subprocess.run(["bash", "-c", as_run_here(command, stack)], env=env,
                                    cwd=ROOT, capture_output=True, text=True, timeout=60)
            ok = result.returncode == 0 and all(i in result.stdout for i in wanted) and (
                "reasonops_sdk" not in command or result.stdout.strip() == expected)
            return result if ok else None
        done = wait_until(ran, timeout=45)
        if command.startswith("curl ") and "/v1/alertmanager" in command:
            assert '"accepted":2' in done.stdout.replace(" ", ""), done.stdout
        if command.startswith("curl ") and "/api/incidents" in command:
            assert done.stdout.startswith('{"items":['), done.stdout
        if "audit trail" in command:
            assert "acknowledged" in done.stdout, done.stdout
            assert "resolved" in done.stdout, done.stdout
