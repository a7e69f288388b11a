"""compose.yaml names only files, directories and commands that exist."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.manifests import ROOT, service_names


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry in short syntax."""
    found = []
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        found.append((source, target))
    return found


def test_bind_mounts_and_build_files_exist():
    problems = []
    for name, service in compose()["services"].items():
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            if not (context / build.get("dockerfile", "Dockerfile")).is_file():
                problems.append(f"{name}: no Dockerfile {build.get('dockerfile')}")
        for source, _ in mounts(service):
            if source.startswith(".") and not (ROOT / source).exists():
                problems.append(f"{name}: mounts missing {source}")
    assert problems == []


def test_named_volumes_are_declared():
    spec = compose()
    declared = set(spec.get("volumes", {}))
    used = {source for s in spec["services"].values() for source, _ in mounts(s)
            if not source.startswith((".", "/"))}
    assert used <= declared


def test_file_arguments_of_commands_are_mounted():
    """A path a container is told to read (``-c /etc/nats/nats.conf``,
    ``--config.file=...``) is a bind mount of an existing file."""
    problems = []
    for name, service in compose()["services"].items():
        targets = {target: source for source, target in mounts(service)}
        for arg in service.get("command", []):
            path = arg.split("=", 1)[-1]
            if not path.startswith("/etc/"):
                continue
            covering = [t for t in targets if path == t or path.startswith(t.rstrip("/") + "/")]
            if not covering:
                problems.append(f"{name}: {path} is not mounted")
            elif not (ROOT / targets[covering[0]]).exists():
                problems.append(f"{name}: {path} comes from missing {targets[covering[0]]}")
    assert problems == []


def test_every_service_runs_under_its_own_name_and_port():
    services = compose()["services"]
    problems = []
    for name in service_names():
        service = services.get(name)
        if service is None:
            problems.append(f"{name}: not in compose.yaml")
            continue
        if service.get("command") != ["run", name]:
            problems.append(f"{name}: command is {service.get('command')}, not [run, {name}]")
        env = service.get("environment", {})
        if "REASONOPS_HTTP_PORT" not in env or env.get("OTEL_SERVICE_NAME") != f"reasonops-{name}":
            problems.append(f"{name}: REASONOPS_HTTP_PORT or OTEL_SERVICE_NAME missing")
    assert problems == []


def test_commands_name_installed_services():
    from importlib.metadata import entry_points

    installed = {ep.name for ep in entry_points(group="reasonops.services")}
    for name, service in compose()["services"].items():
        command = service.get("command", [])
        if command[:1] == ["run"]:
            assert command[1] in installed, f"{name}: `reasonops run {command[1]}` is unknown"


def test_the_whole_picture_is_there():
    assert {"nats", "prometheus", "alertmanager", "grafana", "otel-collector",
            "jaeger"} <= set(compose()["services"])
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t.split(":")[0] for job in prometheus["scrape_configs"]
               for sc in job.get("static_configs", []) for t in sc["targets"]}
    assert set(service_names()) <= targets, "Prometheus does not scrape every service"


def test_the_image_runs_as_non_root_with_a_healthcheck():
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "USER 10001" in final
    assert "HEALTHCHECK" in final
    # No build tools in the final stage: uv, pip installs and compilers stay in "build".
    assert not [line for line in final.splitlines()
                if "astral-sh/uv" in line or "pip install" in line or "apt-get" in line]
    assert "reasonops_runtime.healthcheck" in final


def test_every_deployment_runs_the_nats_server_the_tests_run():
    """compose, the bundled StatefulSet and the tests' embedded server: one version."""
    import subprocess

    from reasonops_cli.natsd import server_binary
    from tests.deploy.manifests import of_kind

    tested = subprocess.run([str(server_binary()), "--version"], capture_output=True,
                            text=True, check=True).stdout.split()[-1].removeprefix("v")
    images = [compose()["services"]["nats"]["image"]]
    images += [c["image"] for c in of_kind("dev", "StatefulSet")["nats"]["spec"]["template"]
               ["spec"]["containers"] if c["name"] == "nats"]
    assert len(images) == 2
    assert all(image.startswith(f"nats:{tested}-") for image in images), (tested, images)
