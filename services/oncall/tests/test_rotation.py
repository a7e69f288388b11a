"""Rotations hand over at their wall-clock time across DST, restrictions keep layers to
their hours, overrides win, gaps are found; escalation policies and notification rules
are read; a wrong file names file, line and reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reasonops_oncall.config import OnCallError, parse
from reasonops_oncall.rotation import OVERRIDE

FILE = """\
users:
  ana: {name: Ana Silva, time_zone: Europe/Lisbon, contacts: [{kind: sms, address: "+35190"}]}
  bo: {name: Bo Berg, time_zone: Europe/Berlin}
  cy: {name: Cy Chen, time_zone: America/New_York}
teams:
  payments: {members: [ana, bo]}
schedules:
  payments-primary:
    team: payments
    time_zone: Europe/Berlin
    layers:
      - name: days
        rotation: weekly
        start: 2026-10-19T09:00
        users: [ana, bo]
        restrict: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
      - name: nights
        rotation: daily
        start: 2026-10-19T17:00
        users: [bo, ana]
        restrict: {days: [mon, tue, wed, thu, fri], hours: "17:00-09:00"}
    overrides:
      - {user: cy, start: 2026-10-28T20:00, end: 2026-10-29T08:00, reason: swap}
services:
  checkout: payments-primary
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_layers_take_their_hours_and_hand_over_at_their_wall_clock_time_across_dst():
    schedule = parse(FILE, "oncall.yaml").schedules["payments-primary"]
    # Monday 19 Oct 2026, 10:00 in Berlin (CEST, UTC+2): week 1 of the day layer: ana.
    assert schedule.who(utc(2026, 10, 19, 8)) == ("ana", "days")
    # Week 2, after the end of summer time (25 Oct): Monday 26 Oct 09:00 Berlin is now
    # 08:00 UTC, and the hand-off follows the wall clock.
    assert schedule.who(utc(2026, 10, 26, 7, 59)) == (None, None)  # 08:59: the weekend
    assert schedule.who(utc(2026, 10, 26, 8)) == ("bo", "days")  # 09:00 Berlin
    assert schedule.who(utc(2026, 10, 27, 7, 59)) == ("ana", "nights")  # Mon night
    # Nights rotate daily at 17:00 Berlin: Mon 19th bo, Tue 20th ana.
    assert schedule.who(utc(2026, 10, 19, 20)) == ("bo", "nights")
    assert schedule.who(utc(2026, 10, 20, 20)) == ("ana", "nights")
    # Friday night (bo's) runs to Saturday 09:00; then the weekend has nobody.
    assert schedule.who(utc(2026, 10, 24, 6)) == ("bo", "nights")  # Sat 08:00 CEST
    assert schedule.who(utc(2026, 10, 24, 12)) == (None, None)
    # The override: cy, Wednesday night.
    assert schedule.who(utc(2026, 10, 28, 22)) == ("cy", OVERRIDE)
    assert schedule.who(utc(2026, 10, 29, 7, 30)) == ("ana", "nights")


def test_turns_merge_and_gaps_are_the_weekends():
    schedule = parse(FILE, "oncall.yaml").schedules["payments-primary"]
    turns = schedule.turns(utc(2026, 10, 23, 0), utc(2026, 10, 27, 0))
    assert [(t.start, t.user) for t in turns] == [
        (utc(2026, 10, 23, 0), "ana"),      # Thursday night (ana's, from the 22nd)
        (utc(2026, 10, 23, 7), "ana"),      # Fri 09:00 CEST: days, week 1
        (utc(2026, 10, 23, 15), "bo"),      # Fri 17:00 CEST: nights, bo's on the 23rd
        (utc(2026, 10, 24, 7), None),       # Sat 09:00 CEST: the weekend gap
        (utc(2026, 10, 26, 8), "bo"),       # Mon 09:00 CET: days, week 2
        (utc(2026, 10, 26, 16), "ana"),     # Mon 17:00 CET: nights, ana's on the 26th
    ]
    assert turns[0].layer == "nights"
    assert turns[1].layer == "days"
    gaps = schedule.gaps(utc(2026, 10, 23, 0), utc(2026, 10, 27, 0))
    assert [(g.start, g.end) for g in gaps] == [(utc(2026, 10, 24, 7), utc(2026, 10, 26, 8))]


def test_a_custom_rotation_of_hours_counts_real_time():
    text = FILE.replace("rotation: daily", "rotation: custom\n        length: 12h")
    nights = parse(text, "oncall.yaml").schedules["payments-primary"].layers[1]
    assert nights.who(utc(2026, 10, 19, 16)) == "bo"   # 18:00 CEST, turn 0
    assert nights.who(utc(2026, 10, 20, 4)) == "ana"   # 06:00 CEST, turn 1 (from 05:00)


@pytest.mark.parametrize(("change", "line", "field", "reason"), [
    (("users: [ana, bo]\n        restrict: {days: [mon, tue, wed, thu, fri], hours: "
      "\"09:00-17:00\"}", "users: [ana, zed]\n        restrict: {days: [mon, tue, wed, "
      "thu, fri], hours: \"09:00-17:00\"}"),
     15, "schedules.payments-primary.layers[0].users[1]", "unknown user 'zed'"),
    (("time_zone: Europe/Berlin\n    layers", "time_zone: Europe/Bärlin\n    layers"),
     10, "schedules.payments-primary.time_zone", "unknown time zone"),
    (("hours: \"17:00-09:00\"", "hours: \"16:00-09:00\""),
     21, "schedules.payments-primary.layers[1].restrict", "overlaps layer 'days' (mon 16:00)"),
    (("rotation: daily", "rotation: hourly"),
     18, "schedules.payments-primary.layers[1].rotation", "Input should be"),
    (("start: 2026-10-28T20:00, end: 2026-10-29T08:00", "start: 2026-10-28T20:00, end: "
      "2026-10-27T08:00"), 23, "schedules.payments-primary.overrides[0].end",
     "must be after start"),
    (("checkout: payments-primary", "checkout: nobody"), 25, "services.checkout",
     "unknown schedule 'nobody'"),
])
def test_a_wrong_file_names_file_line_field_and_reason(change, line, field, reason):
    old, new = change
    assert old in FILE
    with pytest.raises(OnCallError) as refused:
        parse(FILE.replace(old, new), "oncall.yaml")
    assert (refused.value.file, refused.value.line, refused.value.field) == (
        "oncall.yaml", line, field)
    assert reason in refused.value.reason


def test_the_example_file_covers_every_hour():
    from pathlib import Path

    from reasonops_oncall.config import load

    example = Path(__file__).resolve().parents[3] / "examples" / "config" / "oncall.yaml"
    roster = load(example)
    for schedule in roster.schedules.values():
        start = utc(2026, 11, 9)
        assert schedule.gaps(start, utc(2027, 4, 9)) == [], schedule.name  # DST both ways
    assert roster.services["checkout"] == "payments-primary"


POLICY = """
escalation_policies:
  payments:
    team: payments
    levels:
      - {after: 0s, notify: [{schedule: payments-primary}]}
      - {after: 10m, notify: [{user: cy}, {team: payments}]}
"""


@pytest.mark.parametrize(("change", "field", "reason"), [
    (("{schedule: payments-primary}]}", "{schedule: nights}]}"),
     "escalation_policies.payments.levels[0].notify[0].schedule", "unknown schedule"),
    (("- {after: 0s,", "- {after: 5m,"), "escalation_policies.payments.levels[0].after",
     "at once"),
    (("{user: cy}", "{user: cy, team: payments}"),
     "escalation_policies.payments.levels[1].notify[0]", "one of schedule, user or team"),
])
def test_a_wrong_escalation_policy_names_the_field(change, field, reason):
    old, new = change
    with pytest.raises(OnCallError) as refused:
        parse(FILE + POLICY.replace(old, new), "oncall.yaml")
    assert refused.value.field == field
    assert reason in refused.value.reason


def test_a_rule_needs_the_contact_it_names_and_defaults_are_every_contact_when_urgent():
    roster = parse(FILE + POLICY, "oncall.yaml")
    ana = roster.people["ana"]
    assert [r.contact for r in ana.rules_for("high")] == ["sms"]
    assert [r.contact for r in ana.rules_for("low")] == ["sms"]  # no e-mail: the first
    assert roster.policy_for("checkout", None).name == "payments"  # by the file's services
    assert roster.policy_for("search", "payments").name == "payments"  # by its owner
    wrong = FILE.replace('contacts: [{kind: sms, address: "+35190"}]}',
                         'contacts: [{kind: sms, address: "+35190"}], '
                         'notify: {high: [{contact: voice}]}}')
    with pytest.raises(OnCallError) as refused:
        parse(wrong, "oncall.yaml")
    assert refused.value.field == "users.ana.notify.high[0].contact"
    assert "no voice contact" in refused.value.reason
