"""docs/guides/changes.md, run as written against ``reasonops up``: the requests, the
calendar, the list, a change shown, implemented and completed. Only the standard
change's start (and the calendar around it) is moved to now, so it may start."""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.stack import ROOT, Stack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUIDE = ROOT / "docs" / "guides" / "changes.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)


def test_the_changes_guide_runs_as_written(tmp_path):
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    moved = {"2026-12-07T09:00:00Z": now.isoformat().replace("+00:00", "Z"),
             "2026-12-07T00:00:00Z": (now - timedelta(hours=1)).isoformat().replace(
                 "+00:00", "Z"),
             "2026-12-09T00:00:00Z": (now + timedelta(days=30)).isoformat().replace(
                 "+00:00", "Z")}
    # As `make up` starts it: the example change file.
    stack = Stack(tmp_path / "data",
                  REASONOPS_CHANGES=str(ROOT / "examples" / "config" / "changes.yaml"))
    stack.start()
    try:
        planning, implementing = blocks("sh")
        printed = []
        for line in (planning + implementing).strip().splitlines():
            for before, after in moved.items():
                line = line.replace(before, after)
            args = re.findall(r'"[^"]*"|\S+', line)[1:]
            result = stack.run(*[a.strip('"') for a in args])
            assert result.returncode == 0, (line, result.stdout, result.stderr)
            printed.append(result.stdout)
        standard, normal, calendar, listed, shown, started, completed = printed
        assert standard.startswith("CHG0000001 standard change, approved, low risk")
        assert normal.startswith("CHG0000002 normal change, requested, medium risk")
        assert "CHG0000001" in calendar
        assert "template tls-certificate-rotation" in calendar
        assert "CHG0000002" in listed
        assert "implementation: Issue the new certificate" in shown
        assert "implementing" in started
        assert "completed" in completed
        # The refusal the guide shows, word for word but the times.
        again = stack.run("changes", "request", "standard", "--template",
                          "tls-certificate-rotation", "--service", "auth", "--start",
                          moved["2026-12-07T09:00:00Z"])
        assert again.returncode == 0  # CHG0000001 is completed: its window is free
        clash = stack.run("changes", "request", "standard", "--template",
                          "tls-certificate-rotation", "--service", "auth", "--start",
                          moved["2026-12-07T09:00:00Z"])
        assert clash.returncode == 1
        assert re.search(r"conflict: CHG0000003 \(Rotate the TLS certificate\) changes auth "
                         r"from \S+ \S+ UTC to \S+ \S+ UTC", clash.stderr), clash.stderr
        frozen = stack.run("changes", "request", "normal", "--title", "x", "--service",
                           "checkout", "--start", "2026-12-28T10:00:00Z", "--end",
                           "2026-12-28T11:00:00Z", "--plan", "y")
        assert frozen.returncode == 1
        assert blocks("text")[0].splitlines()[1] in frozen.stderr
        metrics = wait_until(lambda: stack.cli("changes", "metrics",
                                               now.strftime("%Y-%m")))
        assert metrics["completed"] == 1
        assert metrics["success_rate"] == 1.0
    finally:
        if stack.process and stack.process.poll() is None:
            stack.stop(signal.SIGTERM)
