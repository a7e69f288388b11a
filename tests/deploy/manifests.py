"""What the deployment tests read: the repository's services and rendered manifests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")


def service_names() -> list[str]:
    """Every service in the repository: a directory under services/ with a pyproject."""
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise AssertionError("kubectl is needed to render the manifests (kubectl kustomize)")
    return found


@cache
def k8s_tree() -> Path:
    """``deploy/k8s`` as a user has it after ``reasonops identities export``: a copy,
    with identities made for every overlay that has none committed (prod's are the
    user's own), so the source tree is left as it is."""
    from reasonops_cli.credentials import export

    copy = Path(tempfile.mkdtemp(prefix="reasonops-k8s-")) / "k8s"
    shutil.copytree(DEPLOY / "k8s", copy)
    for overlay in (copy / "overlays").iterdir():
        if overlay.name in OVERLAYS and not (overlay / "identities").exists():
            export(overlay / "identities", routes=3)
    return copy


@cache
def rendered(overlay: str) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(k8s_tree() / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def documents(overlay: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered(overlay)) if d]


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents(overlay) if d["kind"] == kind}
