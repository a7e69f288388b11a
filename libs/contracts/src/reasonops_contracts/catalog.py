"""The service catalog: which services exist, who owns them, how critical they are, and
what they depend on. Shared by every service that reasons about topology (incidents for
impact and correlation, agents for root cause, SLM for availability weighting).

The file format (YAML, loaded by the consuming service)::

    services:
      - name: checkout
        owner: payments          # owner team = default assignment group
        tier: 1                  # 1 = most critical ... 4
        depends_on: [payments-db, auth]
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

SERVICE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class CatalogService(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=SERVICE_NAME_PATTERN)
    owner: str | None = Field(default=None, min_length=1, max_length=128)
    tier: int = Field(default=3, ge=1, le=4, description="1 = business critical ... 4 = low")
    depends_on: tuple[str, ...] = ()
    description: str | None = None


class ServiceCatalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    services: tuple[CatalogService, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> ServiceCatalog:
        names = [s.name for s in self.services]
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                raise ValueError(f"services[{i}].name: {name!r} is declared twice")
            seen.add(name)
        for i, service in enumerate(self.services):
            for dep in service.depends_on:
                if dep not in seen:
                    raise ValueError(f"services[{i}].depends_on: unknown service {dep!r}")
                if dep == service.name:
                    raise ValueError(f"services[{i}].depends_on: {dep!r} depends on itself")
        return self

    def get(self, name: str | None) -> CatalogService | None:
        if name is None:
            return None
        for service in self.services:
            if service.name == name:
                return service
        return None

    def dependents_of(self, name: str) -> tuple[str, ...]:
        """Services that depend on ``name``, directly or through other services."""
        found: list[str] = []
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for service in self.services:
                if current in service.depends_on and service.name not in found \
                        and service.name != name:
                    found.append(service.name)
                    frontier.append(service.name)
        return tuple(found)

    def dependencies_of(self, name: str) -> tuple[str, ...]:
        """Services ``name`` depends on, directly or transitively."""
        found: list[str] = []
        frontier = [name]
        while frontier:
            service = self.get(frontier.pop())
            if service is None:
                continue
            for dep in service.depends_on:
                if dep not in found and dep != name:
                    found.append(dep)
                    frontier.append(dep)
        return tuple(found)
