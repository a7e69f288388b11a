import socket

import pytest

from reasonops_runtime import ports
from reasonops_runtime.ports import (
    PortUnavailable,
    ephemeral_range,
    free_port,
    free_port_range,
    listen,
    unavailable,
)


def test_free_ports_are_outside_the_kernels_ephemeral_range():
    low, high = ephemeral_range()
    chosen = [free_port() for _ in range(50)]
    assert not [p for p in chosen if low <= p <= high]
    assert all(p >= ports.LOWEST_CHOSEN_PORT for p in chosen)


def test_a_free_port_is_never_handed_out_twice_by_one_process():
    chosen = [free_port() for _ in range(200)]
    assert len(set(chosen)) == len(chosen)


def test_a_range_is_consecutive_free_ports_none_of_them_ephemeral():
    low, high = ephemeral_range()
    base = free_port_range(9)
    assert not [p for p in range(base, base + 9) if low <= p <= high]
    for port in range(base, base + 9):
        listen("127.0.0.1", port).close()


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path, monkeypatch):
    setting = tmp_path / "ip_local_port_range"
    setting.write_text("20000\t30000\n")
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", setting)
    assert ephemeral_range() == (20000, 30000)
    assert not [p for p in (free_port() for _ in range(50)) if 20000 <= p <= 30000]
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", tmp_path / "missing")
    assert ephemeral_range() == ports.LINUX_EPHEMERAL_RANGE


def test_a_taken_port_is_refused_naming_the_address_and_the_reason():
    with listen("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        with pytest.raises(PortUnavailable) as refused:
            listen("127.0.0.1", port)
        assert str(refused.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"
        assert (refused.value.host, refused.value.port) == ("127.0.0.1", port)
        assert str(unavailable("127.0.0.1", port)) == str(refused.value)
    assert unavailable("127.0.0.1", port) is None


def test_port_zero_listens_on_a_port_the_system_chose():
    with listen("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass


def test_an_unknown_host_is_refused_with_the_reason():
    with pytest.raises(PortUnavailable, match=r"cannot listen on no-such-host\.invalid:8080"):
        listen("no-such-host.invalid", 8080)
