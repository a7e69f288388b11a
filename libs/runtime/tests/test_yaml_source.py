"""Configuration YAML with money in it: amounts stay exact, errors name the problem."""

from __future__ import annotations

import pytest

from reasonops_runtime.yaml_source import read_exact


class Wrong(ValueError):
    pass


def wrong(field: str, reason: str) -> Wrong:
    return Wrong(f"{field}: {reason}")


def test_floats_are_kept_as_their_text(tmp_path):
    path = tmp_path / "rates.yaml"
    path.write_text("penalty: 0.10\ncount: 3\nname: acme\n")
    assert read_exact(path, wrong) == {"penalty": "0.10", "count": 3, "name": "acme"}


def test_a_missing_file_and_broken_yaml_are_named(tmp_path):
    with pytest.raises(Wrong, match=r"^\(file\): not found$"):
        read_exact(tmp_path / "absent.yaml", wrong)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(Wrong, match=r"^\(document\): invalid YAML at line \d+, column \d+"):
        read_exact(broken, wrong)
