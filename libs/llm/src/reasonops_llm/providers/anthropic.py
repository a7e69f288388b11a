"""Anthropic ``POST /v1/messages``; structured output through a forced tool call."""

from __future__ import annotations

import json

from ..errors import InvalidOutput
from ..messages import Completion, CompletionRequest, Health
from .base import HttpProvider, dig

API_VERSION = "2023-06-01"


class AnthropicProvider(HttpProvider):
    kind = "anthropic"

    def _headers(self) -> dict[str, str]:
        return {"x-api-key": self.key, "anthropic-version": API_VERSION}

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send("POST", "/v1/messages", headers=self._headers(), json={
            "model": self.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "system": request.system,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "tools": [{"name": request.schema_name,
                       "description": "Record the answer in this exact structure.",
                       "input_schema": request.schema}],
            "tool_choice": {"type": "tool", "name": request.schema_name},
        })
        blocks = dig(body, "content") or []
        used = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"]
        if used and isinstance(used[0].get("input"), dict):
            text = json.dumps(used[0]["input"])
        else:
            texts = [b.get("text") for b in blocks if isinstance(b, dict)
                     and b.get("type") == "text"]
            if not texts:
                raise InvalidOutput("anthropic: reply has no tool_use block")
            text = str(texts[0])
        return Completion(text=text, model=str(dig(body, "model") or self.model),
                          tokens_in=int(dig(body, "usage", "input_tokens") or 0),
                          tokens_out=int(dig(body, "usage", "output_tokens") or 0))

    async def health(self) -> Health:
        body = await self._send("GET", "/v1/models", headers=self._headers())
        models = tuple(str(m.get("id")) for m in (dig(body, "data") or []) if isinstance(m, dict))
        return Health(True, "ok", models)
