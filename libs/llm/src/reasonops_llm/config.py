"""Provider endpoints, keys and limits from the environment; the fallback chain per agent.

Keys come only from environment variables or secret files (``*_API_KEY_FILE``), are
held as ``SecretStr`` and never appear in a log line, an error or a decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROVIDER_KINDS = ("ollama", "openai", "azure", "anthropic", "gemini", "huggingface", "rules")
# Hosted APIs leave the network; the privacy guard redacts before anything goes there.
EXTERNAL_BY_DEFAULT = frozenset({"openai", "azure", "anthropic", "gemini", "huggingface"})
DEFAULT_CHAIN = "rules"


class ChainError(ValueError):
    """A provider chain setting that cannot be used."""


@dataclass(frozen=True)
class ChainEntry:
    kind: str
    model: str

    def __str__(self) -> str:
        return "rules" if self.kind == "rules" else f"{self.kind}:{self.model}"


def parse_chain(text: str) -> tuple[ChainEntry, ...]:
    """``ollama:llama3.1 -> openai:gpt-4o-mini -> rules``; ``rules`` is appended if missing."""
    entries: list[ChainEntry] = []
    for i, part in enumerate(p.strip() for p in text.split("->")):
        if not part:
            if text.strip():
                raise ChainError(f"chain step {i + 1} is empty in {text!r}")
            continue
        kind, _, model = part.partition(":")
        kind = kind.strip().lower()
        if kind not in PROVIDER_KINDS:
            raise ChainError(f"chain step {i + 1}: unknown provider {kind!r}; "
                             f"known: {', '.join(PROVIDER_KINDS)}")
        if kind == "rules":
            if i != len(text.split("->")) - 1:
                raise ChainError("chain: rules must be the last step")
            continue
        if not model.strip():
            raise ChainError(f"chain step {i + 1}: {kind} needs a model, e.g. {kind}:NAME")
        entries.append(ChainEntry(kind, model.strip()))
    return (*entries, ChainEntry("rules", "rules"))


def _key(*names: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names))


class LlmSettings(BaseSettings):
    """``REASONOPS_LLM_*`` (the providers' usual key variables work too)."""

    model_config = SettingsConfigDict(env_prefix="REASONOPS_LLM_", extra="ignore",
                                      populate_by_name=True)

    chain: str = Field(default="", description="Default chain for agents without their own")
    ollama_url: str = "http://127.0.0.1:11434"
    openai_url: str = "https://api.openai.com"
    openai_api_key: SecretStr | None = _key("REASONOPS_LLM_OPENAI_API_KEY", "OPENAI_API_KEY")
    openai_api_key_file: Path | None = None
    azure_url: str | None = Field(default=None, description="https://NAME.openai.azure.com")
    azure_api_version: str = "2024-10-21"
    azure_api_key: SecretStr | None = _key("REASONOPS_LLM_AZURE_API_KEY", "AZURE_OPENAI_API_KEY")
    azure_api_key_file: Path | None = None
    anthropic_url: str = "https://api.anthropic.com"
    anthropic_api_key: SecretStr | None = _key("REASONOPS_LLM_ANTHROPIC_API_KEY",
                                               "ANTHROPIC_API_KEY")
    anthropic_api_key_file: Path | None = None
    gemini_url: str = "https://generativelanguage.googleapis.com"
    gemini_api_key: SecretStr | None = _key("REASONOPS_LLM_GEMINI_API_KEY", "GEMINI_API_KEY")
    gemini_api_key_file: Path | None = None
    huggingface_url: str | None = Field(default=None, description="TGI / Inference endpoint")
    huggingface_api_key: SecretStr | None = _key("REASONOPS_LLM_HUGGINGFACE_API_KEY", "HF_TOKEN")
    huggingface_api_key_file: Path | None = None

    external: str = Field(default="", description="Comma list of provider kinds treated as "
                          "external besides the hosted APIs, which always are (e.g. 'ollama' "
                          "for an Ollama run outside your network); external calls are redacted")
    internal_domains: str = Field(default="", description="Comma list of DNS domains whose "
                                  "host names are redacted, besides "
                                  "internal, corp, lan, intranet, local and home.arpa")
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10, description="Retries on 429/5xx per provider")
    backoff_seconds: float = Field(default=0.5, ge=0)
    max_retry_after_seconds: float = Field(default=30.0, ge=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0)
    concurrency: int = Field(default=4, ge=1, description="In-flight calls per provider")
    max_tokens: int = Field(default=1024, ge=16)
    prices: str = Field(default="", description='JSON {"openai:gpt-4o-mini": {"in": "0.15", '
                        '"out": "0.60"}} in currency per million tokens')
    redact_patterns: str = Field(default="", description='JSON {"customer_id": "CUST-\\\\d{6}"}')
    redact_ips: bool = True

    @field_validator("prices", "redact_patterns")
    @classmethod
    def _json_object(cls, value: str) -> str:
        if value.strip():
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc.msg}") from None
            if not isinstance(parsed, dict):
                raise ValueError("must be a JSON object")
        return value

    def api_key(self, kind: str) -> SecretStr | None:
        direct: SecretStr | None = getattr(self, f"{kind}_api_key", None)
        if direct is not None and direct.get_secret_value():
            return direct
        path: Path | None = getattr(self, f"{kind}_api_key_file", None)
        if path is not None:
            return SecretStr(path.read_text().strip())
        return None

    @field_validator("external")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        unknown = sorted({k.strip() for k in value.split(",") if k.strip()}
                         - (set(PROVIDER_KINDS) - {"rules"}))
        if unknown:
            raise ValueError(f"unknown provider kind(s) {', '.join(unknown)}; "
                             f"known: {', '.join(k for k in PROVIDER_KINDS if k != 'rules')}")
        return value

    def is_external(self, kind: str) -> bool:
        """Hosted APIs always are; configuration can add kinds, never take one away, so a
        setting written for one provider cannot expose another's calls unredacted."""
        return kind in EXTERNAL_BY_DEFAULT or kind in _comma_list(self.external)

    def domains(self) -> tuple[str, ...]:
        """Internal DNS domains configured besides the built-in ones."""
        return _comma_list(self.internal_domains)

    def price(self, kind: str, model: str) -> tuple[Decimal, Decimal]:
        """Cost per million tokens in and out; zero when none is configured."""
        table = json.loads(self.prices) if self.prices.strip() else {}
        entry = table.get(f"{kind}:{model}") or table.get(kind) or {}
        return Decimal(str(entry.get("in", "0"))), Decimal(str(entry.get("out", "0")))

    def patterns(self) -> dict[str, str]:
        found: dict[str, str] = json.loads(self.redact_patterns) if self.redact_patterns else {}
        return found


def agents_config_path(data_dir: Path, explicit: Path | None = None) -> Path:
    return explicit or data_dir / "agents.yaml"


def configured_chain(agent: str, *, explicit: str, path: Path, default: str) -> str:
    """The agent's own setting, else the file ``reasonops agents configure`` writes, else
    the default for every agent, else ``rules``."""
    if explicit.strip():
        return explicit
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        chain = ((loaded.get("agents") or {}).get(agent) or {}).get("chain")
        if chain:
            return str(chain)
    return default.strip() or DEFAULT_CHAIN


def write_chain(path: Path, agent: str, chain: str) -> None:
    """Record ``chain`` for ``agent`` in the agents file, keeping the other agents."""
    parse_chain(chain)
    loaded: dict[str, Any] = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    agents = loaded.setdefault("agents", {})
    agents.setdefault(agent, {})["chain"] = chain
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(loaded, sort_keys=True))


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())
