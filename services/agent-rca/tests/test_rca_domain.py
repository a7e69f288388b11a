import random
from datetime import UTC, datetime, timedelta

from reasonops_agent_rca.domain import (
    AlertSeen,
    ChangeSeen,
    Context,
    PastIncident,
    analyse,
    keep_known_evidence,
)
from reasonops_agent_rca.similarity import Corpus, idf, most_similar, similarity, words

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OWN = AlertSeen("fp-own", "HighErrorRate", "checkout", "checkout 5xx at 12%", T)


def ctx(**parts) -> Context:
    base = dict(incident_id="INC0000100", title="HighErrorRate", service="checkout",
                opened_at=T, own_alerts=[OWN], dependencies=["payments-db", "auth"],
                dependency_alerts=[], changes=[], similar=[])
    base.update(parts)
    return Context(**base)


def test_without_evidence_the_service_itself_is_suspected():
    out = analyse(ctx())
    [only] = out.hypotheses
    assert only.cause.startswith("Fault within checkout itself")
    assert only.evidence[0].ref == "fp-own"
    assert "logs" in out.next_check


def test_recent_change_on_the_service_ranks_first():
    change = ChangeSeen("CHG-1", "deploy checkout v2.14.0", "checkout",
                        T - timedelta(minutes=20), ("https://ci.example/run/1",))
    dep = AlertSeen("fp-db", "PostgresTooManyConnections", "payments-db", "pool full",
                    T - timedelta(minutes=5))
    out = analyse(ctx(changes=[change], dependency_alerts=[dep]))
    assert [h.evidence[0].kind for h in out.hypotheses] == ["change", "dependency_alert",
                                                            "alert"]
    assert out.hypotheses[0].confidence > out.hypotheses[1].confidence
    assert "CHG-1" in out.next_check
    assert "roll it back" in out.next_check


def test_old_change_on_a_dependency_weighs_less_than_a_failing_dependency():
    change = ChangeSeen("CHG-2", "config push auth", "auth", T - timedelta(hours=20))
    dep = AlertSeen("fp-db", "PostgresDown", "payments-db", "down", T - timedelta(minutes=2))
    out = analyse(ctx(changes=[change], dependency_alerts=[dep]))
    assert out.hypotheses[0].evidence[0].kind == "dependency_alert"


def test_similar_past_incident_is_cited_with_its_fix():
    past = PastIncident("INC0000007", "HighErrorRate checkout", "restarted payment gateway", 0.8)
    out = analyse(ctx(similar=[past]))
    assert out.similar_incidents == ["INC0000007"]
    assert any("restarted payment gateway" in h.cause for h in out.hypotheses)


def test_model_evidence_outside_the_context_is_dropped():
    out = analyse(ctx())
    invented = out.model_copy(update={"hypotheses": [out.hypotheses[0].model_copy(update={
        "evidence": [out.hypotheses[0].evidence[0].model_copy(update={"ref": "made-up"})],
        "confidence": 0.9})]})
    kept = keep_known_evidence(invented, ctx())
    assert kept.hypotheses[0].evidence == []
    assert kept.hypotheses[0].confidence == 0.2


def test_lexical_similarity_prefers_shared_rare_words():
    query = words("PostgresReplicationLag orders-db")
    found = most_similar(query, [("A", words("PostgresReplicationLag orders-db replica")),
                                 ("B", words("DiskAlmostFull fs-03")),
                                 ("C", words("ReplicationLag users-db"))])
    assert [k for k, _ in found][:1] == ["A"]
    assert "B" not in [k for k, _ in found]


def test_most_similar_ranks_by_what_similarity_scores():
    """The ranking takes shortcuts (no score for a candidate sharing no word); its
    scores and order are still those of ``similarity`` over every candidate."""
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(40)]
    for _ in range(200):
        query = frozenset(rng.sample(vocabulary, rng.randint(0, 6)))
        candidates = [(f"C{i}", frozenset(rng.sample(vocabulary, rng.randint(0, 8))))
                      for i in range(rng.randint(0, 30))]
        weights = idf([query, *(c for _, c in candidates)])
        scored = [(key, round(similarity(query, c, weights), 3)) for key, c in candidates]
        expected = sorted((s for s in scored if s[1] >= 0.25), key=lambda s: -s[1])[:3]
        assert most_similar(query, candidates) == expected


def test_a_corpus_answers_each_query_as_if_built_for_it():
    """Indexed once, asked many times, leaving out the incident asking and keeping the
    ``first``: the same scores and order as ranking those candidates afresh."""
    rng = random.Random(11)
    vocabulary = [f"w{i}" for i in range(30)]
    for _ in range(200):
        candidates = [(f"C{i}", frozenset(rng.sample(vocabulary, rng.randint(0, 8))))
                      for i in range(rng.randint(0, 25))]
        corpus = Corpus(candidates)
        for _ in range(5):
            query = frozenset(rng.sample(vocabulary, rng.randint(0, 6)))
            leave_out = rng.choice([None, "C0", "C3", "C9", "missing"])
            first = rng.choice([None, 0, 1, 5, 9, 24])
            others = [c for c in candidates if c[0] != leave_out]
            expected = most_similar(query, others if first is None else others[:first])
            assert corpus.most_similar(query, leave_out=leave_out, first=first) == expected
