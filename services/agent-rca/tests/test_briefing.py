"""The briefing combines the agents' latest views of an incident; a model cannot change
which decisions it cites."""

from datetime import UTC, datetime, timedelta

from reasonops_agent_rca.briefing import Seen, Subject, brief, keep_known_views

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SUBJECT = Subject("INC0000100", "PostgresTooManyConnections", "payments", priority=3)

TRIAGE = {"category": "database", "assignment_group": "dba", "suggested_impact": 1,
          "suggested_urgency": 1, "suggested_priority": 2, "confidence": 0.9,
          "reasons": ["alert name PostgresTooManyConnections"], "summary": "database"}
RCA = {"hypotheses": [{"cause": "Change CHG-42 on payments", "confidence": 0.8, "evidence": [
    {"kind": "change", "ref": "CHG-42", "note": "deploy 20 min before"}]}],
    "next_check": "Roll back CHG-42", "similar_incidents": [], "summary": "change"}
SLM = {"clock_id": "c1", "incident_id": "INC0000100", "kind": "resolution", "priority": 3,
       "deadline": (T + timedelta(hours=1)).isoformat(), "predicted_breach": True,
       "minutes_left": 60, "minutes_needed": 95, "progress_percent": 50,
       "assignment_group": "dba", "queue_ahead": 4, "working_hours": True,
       "recommended_actions": ["escalate", "raise_priority"],
       "reasons": ["dba needs 95 min at its pace"], "summary": "breach"}
SECURITY = {"pattern": "brute_force", "source": "203.0.113.9", "failures": 40,
            "accounts": 1, "window_seconds": 300, "severity": "critical",
            "recommended_actions": ["block_source"], "reasons": ["40 failures"],
            "summary": "brute force"}


def seen(agent, output, minutes=0, decision_id=None):
    return Seen(agent, decision_id or f"d-{agent}-{minutes}", T + timedelta(minutes=minutes),
                "rules", f"{agent} said", output)


def test_every_view_with_its_evidence_and_one_summary():
    out = brief(SUBJECT, [seen("triage", TRIAGE), seen("rca", RCA, 5), seen("slm", SLM, 6)])
    assert [v.agent for v in out.views] == ["triage", "rca", "slm"]
    assert out.references == ["d-triage-0", "d-rca-5", "d-slm-6"]
    assert out.missing == ["security"]
    assert out.summary.startswith("INC0000100 (P3, payments): triage files it as database "
                                  "for dba; the likeliest cause is Change CHG-42")
    assert "about 35 min late" in out.summary
    assert "deploy 20 min before" in out.views[1].evidence[0]
    assert any("4 incident(s) queued before it in dba" in e for e in out.views[2].evidence)
    assert out.next_steps[0] == "Roll back CHG-42"
    assert "raise the priority" in out.next_steps
    assert "triage suggests P2; the incident is P3" in out.concerns
    assert out.suggested_priority == 2


def test_a_later_decision_replaces_the_agents_earlier_view():
    calm = {**SLM, "predicted_breach": False, "recommended_actions": []}
    out = brief(SUBJECT, [seen("slm", SLM, 1), seen("slm", calm, 9), seen("triage", TRIAGE)])
    assert out.references == ["d-triage-0", "d-slm-9"]
    assert "on track" in out.summary
    assert not any("breach" in c for c in out.concerns)


def test_an_attack_triage_did_not_see_is_a_concern_and_asks_for_p1():
    out = brief(SUBJECT, [seen("triage", TRIAGE), seen("security", SECURITY, 2)])
    assert "security sees an attack; triage filed it as database" in out.concerns
    assert out.suggested_priority == 1
    assert "block 203.0.113.9" in out.next_steps


def test_no_priority_is_suggested_when_no_view_asks_for_more():
    calm = {**TRIAGE, "suggested_priority": 4}
    assert brief(SUBJECT, [seen("triage", calm), seen("rca", RCA, 1)]).suggested_priority \
        is None


def test_a_model_words_it_but_cannot_change_the_views_or_cite_others():
    first = brief(SUBJECT, [seen("triage", TRIAGE), seen("rca", RCA, 5)])
    invented = first.model_copy(update={
        "summary": "Roll back the payments deploy.", "references": ["made-up"],
        "views": first.views[:1], "suggested_priority": 1, "missing": []})
    kept = keep_known_views(invented, first)
    assert kept.summary == "Roll back the payments deploy."
    assert (kept.references, kept.views) == (first.references, first.views)
    assert kept.missing == first.missing
    assert kept.suggested_priority == 2  # no view asked for P1


def test_a_note_the_cause_already_says_is_not_repeated():
    said = {**RCA, "hypotheses": [{"cause": "Fault within checkout itself (5xx at 12%)",
                                   "confidence": 0.25, "evidence": [
                                       {"kind": "alert", "ref": "fp", "note": "5xx at 12%"}]}]}
    out = brief(SUBJECT, [seen("triage", TRIAGE), seen("rca", said, 1)])
    assert out.views[1].evidence[0] == "Fault within checkout itself (5xx at 12%) (25%)"
    assert "the root cause is uncertain" in out.concerns[0]
