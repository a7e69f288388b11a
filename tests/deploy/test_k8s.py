"""The Kubernetes manifests: they render, validate, and cover every service properly."""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import (
    DEPLOY,
    OVERLAYS,
    ROOT,
    documents,
    of_kind,
    rendered,
    service_names,
)

KUBERNETES_VERSION = "1.35.0"
# Custom resources kubernetes-validate has no schema for; checked by hand below.
CUSTOM_KINDS = {"ScaledObject"}


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def config_env(overlay: str) -> dict[str, str]:
    (config,) = [c for name, c in of_kind(overlay, "ConfigMap").items()
                 if name.startswith("reasonops-env")]
    return config["data"]


def probe_port(probe: dict[str, Any], container: dict[str, Any]) -> int | None:
    port = probe.get("httpGet", {}).get("port")
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    return named.get(port)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_renders(overlay):
    kinds = {d["kind"] for d in documents(overlay)}
    assert {"Namespace", "Deployment", "Service", "StatefulSet", "ConfigMap", "Secret",
            "NetworkPolicy"} <= kinds
    assert {d["metadata"].get("namespace") for d in documents(overlay)
            if d["kind"] != "Namespace"} == {"reasonops"}


@pytest.mark.parametrize("overlay", [*OVERLAYS, "prod-helm-nats"])
def test_the_rendered_manifests_validate_strictly(overlay, tmp_path):
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered(overlay))
    validator = Path(sys.executable).with_name("kubernetes-validate")
    result = subprocess.run([str(validator), "--strict", "-k", KUBERNETES_VERSION, "--quiet",
                             str(manifest)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # The only thing it may not know is a custom resource we check ourselves.
    for line in (result.stdout + result.stderr).splitlines():
        assert "Couldn't find schema for kind" in line, line
        assert any(f"kind {kind} " in line for kind in CUSTOM_KINDS), line


def service_problems(overlay: str, service: str) -> list[str]:
    deployments, services = of_kind(overlay, "Deployment"), of_kind(overlay, "Service")
    name = f"reasonops-{service}"
    where = f"{service} ({overlay})"
    deployment = deployments.get(name)
    if deployment is None:
        return [f"{where}: no Deployment {name}"]
    problems = []
    pod = deployment["spec"]["template"]
    containers = [c for c in pod["spec"]["containers"] if c.get("args", [])[:2] == ["run", service]]
    if not containers:
        return [f"{where}: Deployment {name} has no container with args [run, {service}]"]
    container = containers[0]
    port = env_of(container).get("REASONOPS_HTTP_PORT")
    ports = {p["containerPort"] for p in container.get("ports", []) if p.get("name") == "http"}
    if port is None or {int(port)} != ports:
        problems.append(f"{where}: REASONOPS_HTTP_PORT {port} is not the container port "
                        f"named http {ports}")
    for kind, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                       ("readinessProbe", "/readyz")):
        probe = container.get(kind)
        if probe is None:
            problems.append(f"{where}: no {kind}")
        elif probe.get("httpGet", {}).get("path") != path or str(
                probe_port(probe, container)) != str(port):
            problems.append(f"{where}: {kind} is not GET {path} on port {port}")
    if "reasonops.io/role" not in pod["metadata"].get("labels", {}):
        problems.append(f"{where}: pods lack the reasonops.io/role label the network "
                        "policies select on")
    svc = services.get(name)
    selects = pod["metadata"]["labels"]
    if svc is None:
        problems.append(f"{where}: no Service {name}")
    elif not set(svc["spec"]["selector"].items()) <= set(selects.items()):
        problems.append(f"{where}: Service {name} does not select the Deployment's pods")
    elif {p.get("targetPort") for p in svc["spec"]["ports"]} - {"http", port and int(port)}:
        problems.append(f"{where}: Service {name} targets another port than http")
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_a_deployment_with_probes_and_a_service(overlay):
    services = service_names()
    assert "ingest" in services
    problems = [p for service in services for p in service_problems(overlay, service)]
    assert problems == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_non_root_on_a_read_only_root_with_limits(overlay):
    drain = float(config_env(overlay)["REASONOPS_DRAIN_TIMEOUT_SECONDS"])
    workloads = {**of_kind(overlay, "Deployment"), **of_kind(overlay, "StatefulSet")}
    problems = []
    for name, workload in workloads.items():
        spec = workload["spec"]["template"]["spec"]
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{name}: runAsNonRoot not set")
        for c in spec["containers"]:
            security = c.get("securityContext", {})
            if not security.get("readOnlyRootFilesystem"):
                problems.append(f"{name}: root filesystem is writable")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: privilege escalation allowed")
            if not {"requests", "limits"} <= set(c.get("resources", {})):
                problems.append(f"{name}: requests and limits missing")
        # A service drains in REASONOPS_DRAIN_TIMEOUT_SECONDS, then flushes (2 s) and
        # closes the broker (3 s); SIGKILL must come later.
        if workload["kind"] == "Deployment" and spec["terminationGracePeriodSeconds"] <= drain + 5:
            problems.append(f"{name}: terminationGracePeriodSeconds "
                            f"{spec['terminationGracePeriodSeconds']} <= drain {drain} + 5")
    assert problems == []


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cpu_requests_follow_the_services_tiers(overlay):
    """On a node, a pod's CPU request is its weight when the node is short of CPU, as the
    nice value of its session is under ``reasonops up`` (ADR 54): every service of a
    tier asks for more than any service of a lower one."""
    from reasonops_runtime.settings import DEFAULT_CPU_NICE

    deployments = of_kind(overlay, "Deployment")
    requested: dict[int, dict[str, int]] = {}
    for name in service_names():
        (container,) = deployments[f"reasonops-{name}"]["spec"]["template"]["spec"][
            "containers"]
        requested.setdefault(DEFAULT_CPU_NICE[name], {})[name] = millicores(
            container["resources"]["requests"]["cpu"])
    tiers = sorted(requested)
    assert len(tiers) == 3, requested
    for higher, lower in itertools.pairwise(tiers):
        assert min(requested[higher].values()) > max(requested[lower].values()), requested


def test_state_survives_a_pod_in_every_overlay():
    """Dev keeps SQLite on a claim per service (one pod at a time); prod keeps nothing in
    the pod (PostgreSQL), so its data volume may be an emptyDir."""
    claims = of_kind("dev", "PersistentVolumeClaim")
    for name, deployment in of_kind("dev", "Deployment").items():
        spec = deployment["spec"]
        (data,) = [v for v in spec["template"]["spec"]["volumes"] if v["name"] == "data"]
        assert "emptyDir" not in data, name
        assert data["persistentVolumeClaim"]["claimName"] in claims, name
        assert spec["strategy"]["type"] == "Recreate", name
    for name, deployment in of_kind("prod", "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "DATABASE_URL" in env_of(container), name


def test_dev_is_one_nats_and_one_replica_each():
    assert of_kind("dev", "StatefulSet")["nats"]["spec"]["replicas"] == 1
    assert {d["spec"]["replicas"] for d in of_kind("dev", "Deployment").values()} == {1}
    assert config_env("dev")["REASONOPS_STREAM_REPLICAS"] == "1"


def test_prod_is_a_three_node_cluster_with_r3_streams_and_redundant_services():
    nats = of_kind("prod", "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    (nats_config,) = [c for n, c in of_kind("prod", "ConfigMap").items()
                      if n.startswith("nats-config")]
    conf = nats_config["data"]["nats.conf"]
    assert "cluster {" in conf
    assert 'include "auth/nats-cluster.conf"' in conf
    (auth,) = [s for n, s in of_kind("prod", "Secret").items() if n.startswith("nats-auth")]
    cluster = base64.b64decode(auth["data"]["nats-cluster.conf"]).decode()
    assert all(f"@nats-{i}.nats-headless:6222" in cluster for i in range(3))
    assert '"user": "route"' in cluster
    assert config_env("prod")["REASONOPS_STREAM_REPLICAS"] == "3"
    deployments = of_kind("prod", "Deployment")
    scaled_minimum = {o["spec"]["scaleTargetRef"]["name"]: o["spec"]["minReplicaCount"]
                      for o in of_kind("prod", "ScaledObject").values()}
    pdbs = of_kind("prod", "PodDisruptionBudget")
    problems = []
    for service in service_names():
        name = f"reasonops-{service}"
        deployment = deployments.get(name)
        if deployment is None:
            continue  # reported by the coverage test
        replicas = deployment["spec"].get("replicas", scaled_minimum.get(name, 1))
        if replicas < 2:
            problems.append(f"{service}: fewer than 2 replicas in prod")
        if name not in pdbs:
            problems.append(f"{service}: no PodDisruptionBudget in prod")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        database = env_of(container).get("DATABASE_URL")
        if not (isinstance(database, dict) and "secretKeyRef" in database):
            problems.append(f"{service}: no DATABASE_URL from a Secret in prod "
                            "(replicas cannot share a SQLite file)")
    assert "nats" in pdbs
    assert problems == []


def test_prod_migrates_every_database_in_a_job_before_the_pods_serve():
    assert config_env("prod")["REASONOPS_MIGRATE_ON_START"] == "false"
    job = of_kind("prod", "Job")["reasonops-migrate"]
    containers = job["spec"]["template"]["spec"]["containers"]
    assert sorted(c["args"] for c in containers) == sorted(
        ["migrate", service] for service in service_names())
    deployments = of_kind("prod", "Deployment")
    for container in containers:
        (service,) = container["args"][1:]
        (serving,) = deployments[f"reasonops-{service}"]["spec"]["template"]["spec"][
            "containers"]
        # The Job migrates the very database the service's pods use.
        assert env_of(container)["DATABASE_URL"] == env_of(serving)["DATABASE_URL"]
    # Dev keeps SQLite in the pod: each service migrates its own file on start.
    assert config_env("dev").get("REASONOPS_MIGRATE_ON_START", "true") == "true"


def test_prometheus_may_scrape_every_service_and_the_orchestrator_reach_webhooks():
    from reasonops_runtime.settings import DEFAULT_PORTS

    policies = of_kind("prod", "NetworkPolicy")
    (scrape,) = policies["reasonops-services"]["spec"]["ingress"]
    assert {p["port"] for p in scrape["ports"]} == set(DEFAULT_PORTS.values())
    egress = policies["orchestrator-webhooks"]["spec"]
    assert egress["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == (
        "reasonops-orchestrator")
    assert {p["port"] for rule in egress["egress"] for p in rule["ports"]} >= {443}


def test_keda_owns_the_replica_count_of_what_it_scales():
    """A Deployment KEDA scales names no replicas: each apply would reset KEDA's count."""
    deployments = of_kind("prod", "Deployment")
    for scaled in of_kind("prod", "ScaledObject").values():
        target = scaled["spec"]["scaleTargetRef"]["name"]
        assert "replicas" not in deployments[target]["spec"], target
        assert scaled["spec"]["minReplicaCount"] >= 2, target


def consumers_by_service() -> dict[str, dict[str, str]]:
    """Service -> {durable consumer: stream}, from the services' own wiring."""
    found = {}
    for ep in entry_points(group="reasonops.services"):
        service = ep.load()()
        found[ep.name] = {spec.name: spec.stream.name for spec in service.consumer_specs}
    return found


def test_keda_scales_real_consumers_on_their_lag():
    scaled = of_kind("prod", "ScaledObject")
    assert scaled, "prod scales no consumer"
    deployments = of_kind("prod", "Deployment")
    consumers = consumers_by_service()
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        target = obj["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, f"{name} scales a missing Deployment {target}"
        assert obj["spec"]["minReplicaCount"] >= 2
        assert obj["spec"]["maxReplicaCount"] >= obj["spec"]["minReplicaCount"]
        service = target.removeprefix("reasonops-")
        for trigger in obj["spec"]["triggers"]:
            assert trigger["type"] == "nats-jetstream"
            meta = trigger["metadata"]
            assert meta["natsServerMonitoringEndpoint"].startswith("nats.reasonops.svc")
            assert consumers[service].get(meta["consumer"]) == meta["stream"], (
                f"{name}: {service} has no consumer {meta['consumer']} on {meta['stream']}")
            assert int(meta["lagThreshold"]) > 0


def test_the_configmap_files_are_the_examples():
    config = DEPLOY / "k8s" / "base" / "config"
    for copy in config.iterdir():
        assert copy.read_text() == (ROOT / "examples" / "config" / copy.name).read_text(), (
            f"{copy} differs from examples/config/{copy.name}; copy it again")


def test_secrets_are_generated_from_files_a_user_edits():
    identities = {f"reasonops-identity-{s}" for s in [*service_names(), "operator"]}
    for overlay in OVERLAYS:
        kustomization = yaml.safe_load(
            (DEPLOY / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text())
        names = {s["name"] for s in kustomization["secretGenerator"]}
        assert {"nats-auth", "reasonops-llm", *identities} <= names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_mounts_only_its_own_key_and_nats_knows_every_identity(overlay):
    secrets = of_kind(overlay, "Secret")
    (auth,) = [s for n, s in secrets.items() if n.startswith("nats-auth")]
    users = base64.b64decode(auth["data"]["nats-auth.conf"]).decode()
    (registry,) = [c for n, c in of_kind(overlay, "ConfigMap").items()
                   if n.startswith("reasonops-identities")]
    known = json.loads(registry["data"]["identities.json"])["identities"]
    for name, deployment in of_kind(overlay, "Deployment").items():
        service = name.removeprefix("reasonops-")
        spec = deployment["spec"]["template"]["spec"]
        (identity,) = [v["secret"] for v in spec["volumes"] if v["name"] == "identity"]
        assert identity["secretName"].startswith(f"reasonops-identity-{service}-")
        (container,) = spec["containers"]
        env = env_of(container)
        assert env["REASONOPS_NATS_CREDS"] == "/etc/reasonops/identity/seed"
        assert "@" not in env["NATS_URL"], "no password in the URL any more"
        assert known[service]["public_key"] in users
    job = of_kind(overlay, "Job")["reasonops-streams"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["streams", "declare"]
    # The migrations need a database, not the broker: no identity mounted.
    migrate = of_kind(overlay, "Job").get("reasonops-migrate", {"spec": {"template": {
        "spec": {}}}})["spec"]["template"]["spec"]
    assert "volumes" not in migrate


@pytest.mark.parametrize("conf", ["base/nats/nats.conf", "overlays/prod/nats.conf"])
def test_the_nats_configurations_are_valid_with_exported_identities(conf, tmp_path):
    """What nats-server itself says of each configuration, with what it includes."""
    from reasonops_cli.credentials import export
    from reasonops_cli.natsd import server_binary

    text = (DEPLOY / "k8s" / conf).read_text()
    (tmp_path / "nats.conf").write_text(text.replace("/data/jetstream", str(tmp_path / "js"))
                                        .replace("/var/run/nats", str(tmp_path)))
    export(tmp_path / "auth", routes=3)
    result = subprocess.run([server_binary(), "-c", str(tmp_path / "nats.conf"), "-t"],
                            capture_output=True, text=True, timeout=30,
                            env={"POD_NAME": "nats-0"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_prod_with_helm_nats_is_prod_without_the_bundled_server():
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents("prod-helm-nats")}
    # The nats-auth Secret stays: the chart's server includes it (values.yaml).
    assert not [k for k in kinds if k[1].startswith("nats") and k[0] not in ("NetworkPolicy",
                                                                            "Secret")]
    prod = {(d["kind"], d["metadata"]["name"]) for d in documents("prod")}
    kept = {k for k in kinds if k[0] == "Secret" and k[1].startswith("nats-auth")}
    assert len(kept) == 1
    assert {k for k in prod if not k[1].startswith("nats")} == kinds - {
        ("NetworkPolicy", "nats"), *kept}
    values = yaml.safe_load((DEPLOY / "k8s" / "nats-helm" / "values.yaml").read_text())
    assert values["config"]["cluster"]["enabled"] is True
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["merge"]["$include"] == "../nats-auth/nats-auth.conf"
    assert values["config"]["jetstream"]["enabled"] is True
