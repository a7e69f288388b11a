from decimal import Decimal
from pathlib import Path

import pytest

from reasonops_slm.config import (
    ConfigError,
    load_contracts,
    load_policies,
    load_sla,
)
from reasonops_slm.domain import DEFAULT_POLICIES

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "config"

POLICY = """\
  - name: {name}
    priority: {priority}
    response: {response}
    resolution: {resolution}
"""


def policies_yaml(**override) -> str:
    rows = []
    for p in range(1, 6):
        values = {"name": f"P{p} policy", "priority": f"P{p}", "response": "1h",
                  "resolution": "4h"}
        values.update(override.get(f"p{p}", {}))
        rows.append(POLICY.format(**values))
    return "policies:\n" + "".join(rows)


CONTRACT = """\
contracts:
  - id: ACME-1
    supplier: Acme Hosting
    services: [checkout]
    currency: EUR
    penalties:
      P1: {amount}
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(loader, path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        loader(path)
    assert caught.value.file == str(path)
    return caught.value


def test_no_file_means_built_in_policies_and_no_contracts():
    assert load_policies(None) is DEFAULT_POLICIES
    assert load_contracts(None) == ()


def test_example_files_load():
    assert list(load_policies(EXAMPLES / "sla-policies.yaml")) == list(DEFAULT_POLICIES)
    fast = load_policies(EXAMPLES / "sla-policies-fast.yaml").for_priority(1)
    assert (fast.response_seconds, fast.resolution_seconds) == (2, 3)
    acme, nordic = load_contracts(EXAMPLES / "supplier-contracts.yaml")
    assert "checkout" in acme.services
    assert acme.currency == "EUR"
    assert acme.penalties[1] == Decimal("500.00")
    assert (acme.monthly_fee, acme.monthly_cap) == (Decimal("18000.00"), Decimal("9000.00"))
    assert nordic.targets[1].resolution_seconds == 6 * 3600
    full = load_sla(EXAMPLES / "sla-definitions.yaml")
    search = full.policies.find("search", 3)
    assert (search.schedule.name, search.pause_on) == (
        "uk-office", frozenset({"awaiting_supplier", "awaiting_caller"}))
    assert full.policies.ola("payments", 1) is not None
    assert full.slo_for("checkout") == Decimal("99.95")


SLA_DOC = """
schedules:
  office: {timezone: Europe/London, hours: 09:00-17:00}
policies:
  - {name: a, priority: P1, response: 1m, resolution: 1h}
  - {name: b, priority: P2, response: 1m, resolution: 1h}
  - {name: c, priority: P3, response: 1m, resolution: 1h}
  - {name: d, priority: P4, response: 1m, resolution: 1h}
  - {name: e, priority: P5, response: 1m, resolution: 1h}
"""


@pytest.mark.parametrize(("extra", "key", "problem"), [
    ("  - {name: f, priority: P1, response: 1m, resolution: 1h, schedule: nope}\n",
     "policies[5].schedule", "unknown schedule 'nope'"),
    ("  - {name: f, priority: P1, response: 1m, resolution: 1h, service: x, "
     "retroactive_start: 1}\n", "policies[5].retroactive_start", "true or false"),
    ("  - {name: b2, priority: P2, response: 1m, resolution: 1h}\n", "policies[5].priority",
     "P2 already has policy 'b'"),
    ("maintenance: [{start: 2026-01-02T00:00:00Z, end: 2026-01-01T00:00:00Z}]\n",
     "maintenance[0].end", "not after the start"),
    ("maintenance: [{start: 2026-01-01T00:00:00, end: 2026-01-02T00:00:00Z}]\n",
     "maintenance[0].start", "no time zone"),
    ("availability: {slo: 101}\n", "availability.slo", "more than 100"),
    ("olas: [{group: g, priority: P9, response: 1m, resolution: 1h}]\n", "olas[0].priority",
     "P1..P5"),
])
def test_sla_definition_errors_name_the_key(tmp_path, extra, key, problem):
    err = error(load_sla, write(tmp_path, SLA_DOC + extra))
    assert err.key == key
    assert problem in err.problem


@pytest.mark.parametrize(("schedule", "key", "problem"), [
    ("{timezone: Mars/Olympus}", "schedules.office.timezone", "unknown time zone"),
    ("{timezone: UTC, hours: 9-5}", "schedules.office.hours", "such as 09:00-17:00"),
    ("{timezone: UTC, days: [funday]}", "schedules.office.days[0]", "not a weekday"),
    ("{timezone: UTC, holidays: [christmas]}", "schedules.office.holidays[0]", "not a date"),
])
def test_schedule_errors_name_the_key(tmp_path, schedule, key, problem):
    text = SLA_DOC.replace("{timezone: Europe/London, hours: 09:00-17:00}", schedule)
    err = error(load_sla, write(tmp_path, text))
    assert (err.key, problem in err.problem) == (key, True)


@pytest.mark.parametrize(("clause", "key", "problem"), [
    ("    availability_credits: [{below: 99.9, credit: 10}]\n", "contracts[0].monthly_fee",
     "missing"),
    ("    monthly_cap: 1.001\n", "contracts[0].monthly_cap", "more than 2 decimal places"),
    ("    per_hour: {P1: abc}\n", "contracts[0].per_hour.P1", "not an amount"),
    ("    targets: {P1: {response: 1m}}\n", "contracts[0].targets.P1.resolution", "missing"),
])
def test_contract_clause_errors_name_the_key(tmp_path, clause, key, problem):
    err = error(load_contracts, write(tmp_path, CONTRACT.format(amount="1") + clause))
    assert err.key == key
    assert problem in err.problem


def test_yen_amounts_have_no_decimals(tmp_path):
    text = CONTRACT.format(amount="1.50").replace("EUR", "JPY")
    err = error(load_contracts, write(tmp_path, text))
    assert "more than 0 decimal places for JPY" in err.problem


def test_policy_file_with_seconds_and_durations(tmp_path):
    book = load_policies(write(tmp_path, policies_yaml(p1={"response": 120, "resolution": "1d"})))
    p1 = book.for_priority(1)
    assert (p1.name, p1.response_seconds, p1.resolution_seconds) == ("P1 policy", 120, 86400)


def test_missing_file_is_named(tmp_path):
    err = error(load_policies, tmp_path / "nope.yaml")
    assert err.key == "(file)"
    assert "not found" in err.problem


def test_broken_yaml_says_where(tmp_path):
    err = error(load_policies, write(tmp_path, "policies: [\n  - name: x\n  bad"))
    assert err.key == "(document)"
    assert "line" in err.problem


def test_bad_duration_names_the_key(tmp_path):
    err = error(load_policies, write(tmp_path, policies_yaml(p3={"response": "soon"})))
    assert err.key == "policies[2].response"
    assert "'soon' is not a duration" in err.problem


def test_float_duration_is_refused(tmp_path):
    err = error(load_policies, write(tmp_path, policies_yaml(p2={"resolution": "1.5"})))
    assert err.key == "policies[1].resolution"


def test_every_priority_needs_a_policy(tmp_path):
    text = policies_yaml().split("  - name: P5 policy")[0]
    err = error(load_policies, write(tmp_path, text))
    assert err.key == "policies"
    assert "P5" in err.problem


def test_a_priority_twice_is_refused(tmp_path):
    err = error(load_policies, write(tmp_path, policies_yaml(p2={"priority": "P1"})))
    assert err.key == "policies[1].priority"
    assert "P1 policy" in err.problem


@pytest.mark.parametrize("priority", ["P0", "P6", "urgent", "true"])
def test_bad_priority_is_refused(tmp_path, priority):
    err = error(load_policies, write(tmp_path, policies_yaml(p1={"priority": priority})))
    assert err.key == "policies[0].priority"


def test_typo_in_a_key_is_refused(tmp_path):
    text = policies_yaml().replace("resolution: 4h", "resolve: 4h", 1)
    err = error(load_policies, write(tmp_path, text))
    assert err.key == "policies[0].resolve"
    assert "unknown key" in err.problem


def test_response_longer_than_resolution_is_refused(tmp_path):
    err = error(load_policies, write(tmp_path, policies_yaml(p4={"response": "5h"})))
    assert err.key == "policies[3].response"


def test_document_must_have_the_list(tmp_path):
    err = error(load_policies, write(tmp_path, "- name: x\n"))
    assert err.key == "(document)"
    err = error(load_policies, write(tmp_path, "policies: {}\n"))
    assert err.key == "policies"


@pytest.mark.parametrize(("text", "amount"), [("19.99", "19.99"), ("500", "500.00"),
                                              ("0.10", "0.10"), ("'7.5'", "7.50")])
def test_amounts_are_exact_decimals(tmp_path, text, amount):
    (contract,) = load_contracts(write(tmp_path, CONTRACT.format(amount=text)))
    assert contract.penalties[1] == Decimal(amount)
    assert str(contract.penalties[1]) == amount


@pytest.mark.parametrize(("text", "problem"), [("1.005", "more than 2 decimal places"),
                                               ("-5", "zero or more"), (".inf", "not an amount"),
                                               ("NaN", "finite"),
                                               ("lots", "not an amount"),
                                               ("[1]", "expected an amount")])
def test_bad_amounts_name_the_key(tmp_path, text, problem):
    err = error(load_contracts, write(tmp_path, CONTRACT.format(amount=text)))
    assert err.key == "contracts[0].penalties.P1"
    assert problem in err.problem


@pytest.mark.parametrize("currency", ["eur", "EURO", "12"])
def test_currency_must_be_iso_4217(tmp_path, currency):
    text = CONTRACT.format(amount="1").replace("EUR", currency)
    err = error(load_contracts, write(tmp_path, text))
    assert err.key == "contracts[0].currency"
    assert "ISO 4217" in err.problem


def test_a_service_covered_twice_is_refused(tmp_path):
    second = CONTRACT.format(amount="1").split("contracts:\n")[1].replace("ACME-1", "ACME-2")
    err = error(load_contracts, write(tmp_path, CONTRACT.format(amount="1") + second))
    assert err.key == "contracts[1].services"
    assert "ACME-1" in err.problem


def test_contract_needs_services(tmp_path):
    text = CONTRACT.format(amount="1").replace("[checkout]", "[]")
    err = error(load_contracts, write(tmp_path, text))
    assert err.key == "contracts[0].services"


def test_contract_missing_supplier(tmp_path):
    text = CONTRACT.format(amount="1").replace("    supplier: Acme Hosting\n", "")
    err = error(load_contracts, write(tmp_path, text))
    assert (err.key, err.problem) == ("contracts[0].supplier", "missing")


def test_empty_contract_list_means_no_penalties(tmp_path):
    assert load_contracts(write(tmp_path, "contracts: []\n")) == ()


def test_message_names_file_key_and_problem(tmp_path):
    path = write(tmp_path, CONTRACT.format(amount="1.005"))
    with pytest.raises(ConfigError, match=r"config\.yaml: contracts\[0\]\.penalties\.P1: "):
        load_contracts(path)


def test_settings_read_the_file_paths_and_treat_blank_as_unset(monkeypatch, tmp_path):
    from reasonops_slm.app import SlmSettings

    monkeypatch.setenv("REASONOPS_SLA_POLICIES", str(tmp_path / "p.yaml"))
    monkeypatch.setenv("REASONOPS_SUPPLIER_CONTRACTS", "")
    settings = SlmSettings()
    assert settings.sla_policies == tmp_path / "p.yaml"
    assert settings.supplier_contracts is None
