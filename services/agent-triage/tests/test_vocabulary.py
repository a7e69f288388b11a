import pytest

from reasonops_agent_triage.classify import classify
from reasonops_agent_triage.vocabulary import (
    LEARNED,
    VocabularyError,
    load,
    parse,
    shipped,
    tokens,
)
from reasonops_contracts.agents import TriageRequested


def request(title: str, *, labels: dict[str, str] | None = None, description: str = "",
            tool: str | None = None) -> TriageRequested:
    notes = {"description": description} | ({"source_tool": tool} if tool else {})
    return TriageRequested(request_id="R1", workflow_id="WF-INC0000001",
                           incident_id="INC0000001", title=title, severity="warning",
                           priority=3, labels=labels or {}, annotations=notes)


def test_every_shipped_vocabulary_says_where_it_comes_from():
    files = dict(shipped())
    assert {"aws.yaml", "azure.yaml", "gcp.yaml", "kubernetes.yaml", "windows.yaml",
            "security.yaml", "databases.yaml", "storage.yaml", "network.yaml",
            "infrastructure.yaml", "application.yaml", "words.yaml", LEARNED} <= set(files)
    vocabulary = load()
    assert set(vocabulary.sources) == set(files)
    assert all(vocabulary.sources.values())
    assert vocabulary.size > 1500


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nterms: {network: [bgp]}\n", "x.yaml: sources: say where"),
    ("sources: [docs]\nterms: {weather: [rain]}\n", "x.yaml: terms.weather: 'weather' is not"),
    ("sources: [docs]\nterms: {network: [{bgp: -1}]}\n", "x.yaml: terms.network: {'bgp': -1}"),
    ("sources: [docs]\nterms: {network: ['---']}\n", "x.yaml: terms.network: '---' has no"),
    ("sources: [docs]\ntools: {weather: [zeek]}\n", "x.yaml: tools.weather"),
    ("- a list\n", "x.yaml: expected a mapping"),
])
def test_a_wrong_vocabulary_is_named_with_its_file_and_field(text, message):
    with pytest.raises(VocabularyError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse([("x.yaml", text)])


def test_accents_are_folded_and_camel_case_split():
    assert tokens("Température CPU élevée") == ("temperature", "cpu", "elevee")
    assert tokens("Größe") == ("grosse",)
    assert tokens("KubePersistentVolumeFillingUp") == (
        "kube", "persistent", "volume", "filling", "up")


@pytest.mark.parametrize(("title", "labels", "description", "tool", "expected"), [
    # A vendor's resource type in a label outweighs symptom words in the text.
    ("High latency", {"namespace": "AWS/RDS", "metric": "ReadLatency"},
     "network latency from the application", None, "database"),
    ("Throttling", {"resourceType": "Microsoft.Storage/storageAccounts"},
     "requests throttled", None, "storage"),
    ("Utilisation high", {"resource.type": "cloudsql_database"}, "", None, "database"),
    # Windows event IDs, in a label or after "Event"/"Ereignis".
    ("Audit", {"event_id": "4625"}, "", None, "security"),
    ("Ereignis 4740", {}, "", None, "security"),
    ("Event 153 disk", {}, "", None, "storage"),
    # Kubernetes event reasons and kube-prometheus alert names.
    ("FailedAttachVolume", {"reason": "FailedAttachVolume"}, "", None, "storage"),
    ("KubeletServerCertificateExpiration", {"alertname": "KubeletServerCertificateExpiration"},
     "", None, "security"),
    # German, French and Spanish words count like English ones.
    ("Festplatte fast voll", {}, "", None, "storage"),
    ("Perte de paquets vers le routeur", {}, "", None, "network"),
    ("Fuerza bruta contra SSH", {}, "", None, "security"),
    # The tool that sent it, when nothing else says.
    ("Notice raised", {}, "", "zeek", "security"),
    ("Job finished with warnings", {}, "", "veeam", "storage"),
])
def test_vendor_vocabularies_decide(title, labels, description, tool, expected):
    result = classify(request(title, labels=labels, description=description, tool=tool))
    assert result.category == expected, result.signals


def test_a_vendor_name_takes_its_words_once():
    """The longest term wins a place: KubeNodeNotReady is not also 'node'."""
    result = classify(request("KubeNodeNotReady", labels={"alertname": "KubeNodeNotReady"}))
    assert [s.term for s in result.signals] == ["KubeNodeNotReady"]


def test_label_names_that_say_where_are_read_as_the_resource():
    result = classify(request("Queue building up", labels={"instance_id": "db-node-1"}))
    assert all(s.where != "label instance_id" or s.points <= 2 for s in result.signals)


def test_remembered_matches_are_the_matches_and_stay_bounded(monkeypatch):
    from reasonops_agent_triage import vocabulary as module

    vocabulary = load()
    words = tokens("KubeNodeNotReady: disk pressure on the replica")
    assert vocabulary.found(words) == tuple(vocabulary.match(words))
    assert vocabulary.found(words) is vocabulary.found(words)  # remembered
    monkeypatch.setattr(module, "REMEMBERED", 3)
    for n in range(10):
        vocabulary.found(tokens(f"node {n} not ready"))
    assert len(vocabulary._found) <= 3
    assert tokens("Température") == tokens("Temperature") == ("temperature",)
