"""End to end: a data directory on the previous release's schema is upgraded by the next
`reasonops up` with its data intact, and the whole chain goes on working on it."""

import json
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tests.e2e.stack import ROOT, Stack, wait_until
from tests.e2e.test_up import FAST

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GUIDE = ROOT / "docs" / "guides" / "operations.md"


def test_up_upgrades_a_data_directory_from_the_first_release_schema(tmp_path):
    data = tmp_path / "data"
    first = Stack(data, **FAST)
    first.start()
    try:
        assert first.post("/v1/alertmanager", "alertmanager-firing.json").status_code == 202
        penalties = wait_until(lambda: (s := first.cli("sla", "status", "INC0000001"))
                               and len(s["penalties"]) == 2 and s["penalties"], timeout=40)
        month = datetime.now(UTC).strftime("%Y-%m")
        before = wait_until(lambda: (s := first.cli("finance", "summary", "--month", month))
                            ["entries"] == 2 and s)
        shown = first.cli("incidents", "show", "INC0000001")
    finally:
        first.stop(signal.SIGTERM)

    # The operations guide's commands as written: every set of tables back to revision
    # 0001, the schema migrations began with, is what a data directory of that release
    # looks like (its rows are the ones written above).
    (commands,) = re.findall(r"^## Schema migrations.*?^```bash\n(.*?)^```", GUIDE.read_text(),
                             flags=re.S | re.M)
    assert "reasonops migrate --to 0001" in commands
    back = subprocess.run(["bash", "-euo", "pipefail", "-c", re.sub(
        r"^reasonops ", f"{sys.executable} -m reasonops_cli ", commands, flags=re.M)],
        env=dict(first.env, REASONOPS_DATA_DIR=str(data)), cwd=ROOT, capture_output=True,
        text=True, timeout=120)
    assert back.returncode == 0, back.stderr
    assert "0001" in back.stdout
    status = first.run("migrate", "--status", "--json")
    rows = json.loads(status.stdout)
    assert {r["now"] for r in rows} == {"0001"}
    assert {r["head"] for r in rows} > {"0001"}  # some sets have moved on since

    again = Stack(data, **FAST)
    again.start()
    try:
        rows = json.loads(again.run("migrate", "--status", "--json").stdout)
        assert all(r["now"] == r["head"] for r in rows), rows
        kept = again.cli("incidents", "show", "INC0000001")
        assert {k: kept[k] for k in ("state", "priority", "service", "alert_count")} == {
            k: shown[k] for k in ("state", "priority", "service", "alert_count")}
        assert again.cli("sla", "status", "INC0000001")["penalties"] == penalties
        assert again.cli("finance", "summary", "--month", month)["totals"] == before["totals"]

        # The chain on the upgraded data: a new alert is a new incident, resolved by its
        # sender; its duplicate of a handled message is still recognised as one.
        published = again.cli("publish", "--name", "DiskFull", "--service", "billing",
                              "--severity", "error", "--resource", "db-3")
        assert published["subject"] == "itsm.ingest.raw.event"
        billing = wait_until(lambda: again.cli("incidents", "list", "--service", "billing")
                             ["items"])
        assert [i["incident_id"] for i in billing] == ["INC0000002"]
        assert again.post("/v1/alertmanager", "alertmanager-resolved.json").status_code == 202
        wait_until(lambda: again.cli("incidents", "show", "INC0000001")["state"] == "resolved")
        workflow = wait_until(lambda: (w := again.cli("workflows", "show", "INC0000002"))
                              and any(s["step"] == "triage" for s in w["steps"]) and w)
        assert workflow["incident_id"] == "INC0000002"
    finally:
        again.stop(signal.SIGTERM)
