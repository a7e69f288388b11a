"""The service catalog file (``REASONOPS_SERVICE_CATALOG``), read and validated once for
any service that needs owners or tiers; a mistake names file, line, field and reason."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from reasonops_contracts.catalog import ServiceCatalog

from .yaml_source import SourceError, dotted, line_of, read_mapping


class CatalogError(SourceError):
    """The catalog file is wrong."""


def load_catalog(path: Path | None) -> ServiceCatalog:
    """The catalog at ``path``; without one, an empty catalog (no service has an owner)."""
    if path is None:
        return ServiceCatalog()
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(file, None, "(file)", exc.strerror or str(exc)) from None
    root, data = read_mapping(text, file, CatalogError, "a mapping with services")
    try:
        return ServiceCatalog.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if isinstance(p, str | int)]
        raise CatalogError(file, line_of(root, loc), dotted(loc) or "(file)",
                           str(error["msg"]).removeprefix("Value error, ")) from None
