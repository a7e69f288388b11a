"""The secret gate `make lint` runs: a planted secret fails it, the repository passes."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GATE = ROOT / ".ci" / "secret_gate.py"
# Built at run time, so this file holds no secret-looking literal itself.
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 4
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9kQ\n-----END " + \
    "RSA PRIVATE KEY-----\n"


def gate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GATE), "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120)


def planted(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "app.env").write_text("DB_HOST=db-1\nDB_PASSWORD=s3cr3t-Value\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "key.pem").write_text(PEM)
    (tmp_path / "app.py").write_text(
        f'password = settings.password\ntoken = "{GITHUB_TOKEN}"\nurl = "${{DATABASE_URL}}"\n')
    return tmp_path


def test_a_planted_secret_fails_the_gate_naming_where_without_showing_it(tmp_path):
    result = gate(planted(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "config/app.env:2: password: s3cr********" in lines
    assert "deploy/key.pem:1: private_key: ----********" in lines
    assert "app.py:2: github_token: ghp_********" in lines
    assert not [ln for ln in lines if ln.startswith("app.py:1")]  # an expression, not a value
    assert "s3cr3t-Value" not in result.stdout
    assert GITHUB_TOKEN not in result.stdout
    assert "3 secret-looking value(s)" in lines[-1]


def test_a_fixtures_secrets_pass_when_the_allow_list_names_them_with_a_reason(tmp_path):
    allow = tmp_path / "allowed.yaml"
    allow.write_text("- path: config/*.env\n  kinds: [password]\n  reason: a fixture\n"
                     "- path: deploy/key.pem\n  reason: a test key\n"
                     "- path: '*.py'\n  reason: a fake token\n")
    assert gate(planted(tmp_path), "--allow", str(allow)).returncode == 0
    allow.write_text("- path: config/*.env\n  kinds: [private_key]\n  reason: wrong kind\n")
    assert gate(tmp_path, "--allow", str(allow)).returncode == 1


def test_an_allow_list_entry_without_a_reason_is_refused(tmp_path):
    allow = tmp_path / "allowed.yaml"
    allow.write_text("- path: config/*.env\n")
    result = gate(planted(tmp_path), "--allow", str(allow))
    assert result.returncode != 0
    assert "entry 1 needs a path and a reason" in result.stderr


def test_the_repository_passes_the_gate():
    result = gate(ROOT)
    assert result.returncode == 0, result.stdout
