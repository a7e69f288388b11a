"""A poison message, fixed by configuration and replayed from the dead-letter stream with
the CLI, has exactly one effect, however often it is replayed; a discarded one stays
readable and is refused a replay."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from pathlib import Path

import pytest

from reasonops_contracts import subjects
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from tests.support import cli, stream_messages, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.slow]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "operations.md"
FIRING = Path(__file__).resolve().parents[2] / "examples" / "payloads" / "alertmanager-firing.json"



async def listed(nats_url: str, *args: str) -> list[dict]:
    code, out, err = await cli(nats_url, "deadletters", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out)["items"]


async def test_a_message_fixed_by_configuration_is_replayed_once(nats_url, nc, start_service):
    # An operator set the body limit lower than what their Alertmanager sends.
    narrow = await start_service(build_ingest, IngestSettings, max_body_bytes=1024)
    await start_service(build_incidents, IncidentSettings)
    js = nc.jetstream()
    body = FIRING.read_bytes()
    assert len(body) > 1024
    await js.publish(subjects.INGEST_RAW_ALERTMANAGER, body)
    await js.publish(subjects.INGEST_RAW_EVENT, b"not json at all")
    parked = await wait_for(lambda: listed(nats_url), check=lambda items: len(items) == 2)
    by_subject = {p["subject"]: p for p in parked}
    large = by_subject[subjects.INGEST_RAW_ALERTMANAGER]
    assert (large["service"], large["status"]) == ("ingest", "parked")
    assert "exceeds the limit of 1024 bytes" in large["error"]

    code, out, _ = await cli(nats_url, "deadletters", "show", str(large["sequence"]), "--json")
    assert code == 0
    assert json.loads(out)["payload"].encode() == body  # the whole message, not a prefix

    # The fix: a limit that fits, and ingest restarted with it.
    await narrow.stop()
    await start_service(build_ingest, IngestSettings, max_body_bytes=512 * 1024)
    junk = by_subject[subjects.INGEST_RAW_EVENT]["sequence"]
    # The operations guide's commands as written, with these letters' numbers: list, show,
    # replay the large one, discard the junk.
    for command in guide_commands(large=large["sequence"], junk=junk):
        code, out, err = await cli(nats_url, *command)
        assert code == 0, (command, err)
    # An operator who replays a second time still gets one effect.
    code, out, err = await cli(nats_url, "deadletters", "replay", str(large["sequence"]))
    assert code == 0, err
    assert f"replayed dead letter {large['sequence']}" in out

    incidents = await wait_for(lambda: _incidents(nats_url),
                               check=lambda items: items and items[0]["alert_count"] == 2)
    await asyncio.sleep(1.0)  # time for a second effect, were there one
    assert len(await _incidents(nats_url)) == 1
    assert incidents[0]["alert_count"] == 2
    assert len(await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)) == 2
    [replayed] = await listed(nats_url, "--status", "replayed")
    assert len(replayed["replays"]) == 2
    assert replayed["replays"][0]["actor"].startswith("user:")

    code, _, err = await cli(nats_url, "deadletters", "replay", str(junk))
    assert code == 1
    assert "was discarded by" in err
    assert "a test sender's typo" in err
    assert await listed(nats_url) == []  # nothing parked any more
    code, _, err = await cli(nats_url, "deadletters", "show", "999999")
    assert code == 1
    assert "no dead letter 999999" in err


def guide_commands(*, large: int, junk: int) -> list[list[str]]:
    text = GUIDE.read_text()
    (block,) = re.findall(r"^## Dead letters.*?^```bash\n(.*?)^```", text, flags=re.S | re.M)
    block = block.replace(" 42", f" {large}").replace(" 43", f" {junk}")
    return [shlex.split(line)[1:] for line in block.splitlines() if line.strip()]


async def _incidents(nats_url: str) -> list[dict]:
    code, out, err = await cli(nats_url, "incidents", "list", "--json")
    assert code == 0, err
    return json.loads(out)["items"]
