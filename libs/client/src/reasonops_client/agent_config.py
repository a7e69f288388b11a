"""The agents' configuration in the NATS KV bucket every agent replica watches: read it,
and write one agent's. The CLI (``reasonops agents configure``) and the gateway
(``POST /api/agents/configure-llm``) both write through here."""

from __future__ import annotations

from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from reasonops_contracts.agents import AGENT_CONFIG_BUCKET, AGENT_NAMES, AgentConfig


class ConfigUnavailable(RuntimeError):
    """The bucket is not there (ReasonOps was never started on this server)."""


async def bucket(nc: Client) -> KeyValue:
    try:
        return await nc.jetstream().key_value(AGENT_CONFIG_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        raise ConfigUnavailable(f"no {AGENT_CONFIG_BUCKET} bucket on this server; has "
                                "ReasonOps been started?") from None


async def write_config(nc: Client, agent: str, config: AgentConfig) -> None:
    """Set ``agent``'s configuration; its replicas apply it as it arrives."""
    await (await bucket(nc)).put(agent, config.model_dump_json().encode())


async def read_configs(nc: Client) -> dict[str, AgentConfig]:
    """Each agent's configuration set in the bucket (agents not in it run on their
    service's own settings)."""
    kv = await bucket(nc)
    found: dict[str, AgentConfig] = {}
    for agent in AGENT_NAMES:
        try:
            entry = await kv.get(agent)
        except (KeyNotFoundError, NotFoundError):
            continue
        if entry.value:
            found[agent] = AgentConfig.model_validate_json(entry.value)
    return found
