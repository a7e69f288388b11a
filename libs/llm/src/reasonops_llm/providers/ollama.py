"""Ollama ``POST /api/chat`` with ``format`` set to the JSON schema."""

from __future__ import annotations

from ..errors import InvalidOutput
from ..messages import Completion, CompletionRequest, Health
from .base import HttpProvider, dig


class OllamaProvider(HttpProvider):
    kind = "ollama"

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send("POST", "/api/chat", json={
            "model": self.model,
            "messages": [{"role": "system", "content": request.system},
                         *({"role": m.role, "content": m.content} for m in request.messages)],
            "stream": False,
            "format": request.schema,
            "options": {"temperature": request.temperature, "num_predict": request.max_tokens},
        })
        content = dig(body, "message", "content")
        if not isinstance(content, str):
            raise InvalidOutput("ollama: reply has no message.content")
        return Completion(text=content, model=str(dig(body, "model") or self.model),
                          tokens_in=int(dig(body, "prompt_eval_count") or 0),
                          tokens_out=int(dig(body, "eval_count") or 0))

    async def health(self) -> Health:
        body = await self._send("GET", "/api/tags")
        models = tuple(str(m.get("name")) for m in (dig(body, "models") or [])
                       if isinstance(m, dict))
        wanted = {self.model, f"{self.model}:latest"}
        if not wanted.intersection(models):
            return Health(False, f"model {self.model} not pulled (ollama pull {self.model})",
                          models)
        return Health(True, "ok", models)
