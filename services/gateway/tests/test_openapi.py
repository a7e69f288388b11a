"""The OpenAPI document in the repository is the one the code serves."""

from reasonops_gateway.openapi import EXPORTED, document, render


def test_the_exported_document_matches_the_code():
    assert EXPORTED.exists(), "run `make schemas` to export the OpenAPI document"
    assert EXPORTED.read_text() == render(), (
        "the API changed: run `make schemas` and commit services/gateway/openapi.json")


def test_every_operation_is_authenticated_documented_and_answers_problems():
    spec = document()
    assert spec["openapi"].startswith("3.1")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert operation.get("security") == [{"HTTPBearer": []}], where
            for status in ("401", "403", "422", "429", "503"):
                content = operation["responses"][status]["content"]
                assert "application/problem+json" in content, (where, status)
