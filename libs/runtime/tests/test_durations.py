"""One way to read a duration, for every file and command that takes one."""

import pytest

from reasonops_runtime.durations import parse_duration, whole_seconds


@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90), ("90", 90), ("2s", 2), ("15m", 900), ("4h", 14400), ("1d", 86400),
    ("1h30m", 5400), (" 3D ", 259200), ("1.5h", 5400), (2.5, 2.5), ("500ms", 0.5),
    ("2.5s", 2.5), ("1m30s", 90),
])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(("value", "problem"), [
    (0, "must be longer than zero"), ("0m", "must be longer than zero"),
    ("-5m", "'-5m' is not a duration"), ("soon", "'soon' is not a duration"),
    ("15 minutes", "is not a duration"), (True, "got bool"), (None, "got nothing"),
    ([1], "got list"),
])
def test_bad_durations_say_what_is_wrong(value, problem):
    with pytest.raises(ValueError, match=problem):
        parse_duration(value)


def test_zero_where_it_is_allowed_and_whole_seconds_where_they_are_kept():
    assert parse_duration("0s", zero=True) == 0
    assert whole_seconds("15m") == 900
    with pytest.raises(ValueError, match="give whole seconds"):
        whole_seconds("1500ms")
