"""What the contracts declare each service does on the broker (and so what its identity
is allowed) is what the service, once built, actually registers."""

import pytest

from reasonops_cli.run import installed_services
from reasonops_contracts.ownership import DURABLES, SERVICES, owners
from reasonops_runtime.permissions import publishes, subscribes


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import os

    os.environ.setdefault("REASONOPS_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    return {name: entry.load()() for name, entry in installed_services().items()}


def test_every_installed_service_is_declared(built):
    assert set(built) == set(SERVICES)


@pytest.mark.parametrize("name", SERVICES)
def test_a_services_consumers_are_the_durables_its_identity_may_use(built, name):
    registered = {(spec.stream.name, spec.name) for spec in built[name].consumer_specs}
    assert registered == set(DURABLES[name])


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_answers_only_what_it_owns_and_may_subscribe_to_it(built, name):
    answered = {model.SUBJECT for model, _ in built[name].responders}
    assert all(name in owners(subject) for subject in answered)
    allowed = {entry.split(" ")[0] for entry in subscribes(name)}
    assert answered <= allowed


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_may_publish_no_event_of_a_subject_it_does_not_own(name):
    from reasonops_contracts.registry import EVENTS

    events = {model.SUBJECT for model in EVENTS.values()}
    foreign = [s for s in publishes(name) if s in events and name not in owners(s)]
    assert foreign == []


def test_agents_may_publish_decisions_and_proposals_and_nothing_that_changes_state():
    for agent in ("agent-triage", "agent-rca", "agent-security", "agent-capacity"):
        events = {s for s in publishes(agent) if s.startswith("itsm.")}
        assert not [s for s in events if s.startswith(("itsm.incident.", "itsm.finance.",
                                                       "itsm.slm.", "itsm.workflow."))]
        assert {"itsm.agent.decision.recorded", "itsm.agent.proposal.recorded"} <= events
