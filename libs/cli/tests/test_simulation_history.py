"""Reading a what-if history: every line checked, a repeated alert checked once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasonops_cli.history import HistoryError, read_history, without_repeats

ALERT = {"fingerprint": "fp-1", "name": "HighErrorRate", "severity": "critical",
         "service": "checkout", "resource": "pod", "summary": "errors", "status": "firing"}


def write(tmp_path: Path, *lines: dict) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_repeat_is_the_same_alert_received_again(tmp_path):
    events = read_history(write(
        tmp_path, {"at": "2026-03-02T10:05:00+00:00", "alert": ALERT},
        {"at": "2026-03-02T10:00:00+00:00", "alert": ALERT},
        {"at": "2026-03-02T10:09:00+00:00", "alert": ALERT | {"status": "resolved"}}))
    assert [(e.at.minute, e.alert.received_at.minute, e.alert.status)
            for e in events if e.alert] == [(0, 0, "firing"), (5, 5, "firing"),
                                            (9, 9, "resolved")]
    kept, repeats = without_repeats(events)
    assert (len(kept), repeats) == (2, 1)


def test_a_repeat_with_other_fields_is_checked_and_a_bad_one_named(tmp_path):
    path = write(tmp_path, {"at": "2026-03-02T10:00:00+00:00", "alert": ALERT},
                 {"at": "2026-03-02T10:01:00+00:00", "alert": ALERT | {"severity": "dire"}})
    with pytest.raises(HistoryError, match=r"history\.jsonl:2: alert: \('severity',\)"):
        read_history(path)
    bad = write(tmp_path, {"at": "2026-03-02T10:00:00+00:00", "alert": "not an object"})
    with pytest.raises(HistoryError, match=r"history\.jsonl:1: alert: expected an object"):
        read_history(bad)
