from pathlib import Path

from reasonops_contracts.schemas import render_schemas

CHECKED_IN = Path(__file__).resolve().parents[1] / "schemas"


def test_checked_in_schemas_match_the_models():
    rendered = render_schemas()
    on_disk = {p.name: p.read_text() for p in CHECKED_IN.glob("*.json")}
    stale = sorted(name for name in rendered if on_disk.get(name) != rendered[name])
    extra = sorted(set(on_disk) - set(rendered))
    hint = "contracts changed without re-export: run `make schemas`"
    assert not stale, f"{hint}; changed {stale}"
    assert not extra, f"{hint}; removed {extra}"
