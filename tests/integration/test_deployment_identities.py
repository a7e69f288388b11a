"""What compose and Kubernetes do before a service starts, on a real nats-server: the
identities exported, the server configured with them as the deployments include them,
the streams declared by the operator's job; a service's own key may not."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasonops_cli.natsd import EmbeddedNats
from reasonops_runtime.ports import free_port
from tests.e2e.stack import without_test_identity

pytestmark = [pytest.mark.nats, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _reasonops(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reasonops_cli", *args], cwd=ROOT,
                          env=without_test_identity(dict(os.environ, **env)),
                          capture_output=True, text=True, timeout=60)


def test_exported_identities_configure_the_server_and_the_operator_declares_streams(
        tmp_path):
    folder = tmp_path / "identities"
    made = _reasonops("identities", "export", str(folder))
    assert made.returncode == 0, made.stderr
    assert oct((folder / "credentials" / "ingest.nk").stat().st_mode & 0o777) == "0o600"
    registry = json.loads((folder / "identities.json").read_text())["identities"]
    assert registry["operator"]["principal"] == "user:admin"
    # Exported again: the same keys (a deployment's Secrets do not change under it).
    assert _reasonops("identities", "export", str(folder)).returncode == 0
    assert json.loads((folder / "identities.json").read_text())["identities"] == registry

    # The compose server's configuration, as compose mounts the volume beside it.
    conf = tmp_path / "nats.conf"
    # (Less its store directory and port: the embedded server takes those as flags.)
    conf.write_text((ROOT / "deploy" / "nats" / "nats.conf").read_text()
                    .replace("store_dir: /data/jetstream", "").replace("port: 4222", "")
                    .replace("http_port: 8222", "").replace("server_name: reasonops-nats", ""))
    (tmp_path / "auth").symlink_to(folder)
    server = EmbeddedNats(tmp_path / "js", port=free_port(), monitor_port=None, config=conf,
                          log_file=tmp_path / "nats.log")
    server.start()
    try:
        as_ingest = _reasonops("streams", "declare", NATS_URL=server.url,
                               REASONOPS_NATS_CREDS=str(folder / "credentials" / "ingest.nk"))
        assert as_ingest.returncode == 1
        assert "declaring the streams failed" in as_ingest.stderr
        anonymous = _reasonops("streams", "declare", NATS_URL=server.url,
                               REASONOPS_DATA_DIR=str(tmp_path / "nothing"))
        assert anonymous.returncode == 1
        assert "refused the credentials" in anonymous.stderr
        declared = _reasonops("streams", "declare", NATS_URL=server.url,
                              REASONOPS_NATS_CREDS=str(folder / "credentials" / "operator.nk"))
        assert declared.returncode == 0, declared.stderr
        assert "streams declared" in declared.stdout
        assert "AUDIT" in declared.stdout
    finally:
        server.stop()
