"""Google Gemini ``POST /v1beta/models/{model}:generateContent`` with ``responseSchema``."""

from __future__ import annotations

from ..errors import InvalidOutput
from ..messages import Completion, CompletionRequest, Health
from ..schema import gemini_schema
from .base import HttpProvider, dig


class GeminiProvider(HttpProvider):
    kind = "gemini"

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.key}

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send(
            "POST", f"/v1beta/models/{self.model}:generateContent", headers=self._headers(),
            json={
                "systemInstruction": {"parts": [{"text": request.system}]},
                "contents": [{"role": "model" if m.role == "assistant" else "user",
                              "parts": [{"text": m.content}]} for m in request.messages],
                "generationConfig": {
                    "temperature": request.temperature,
                    "maxOutputTokens": request.max_tokens,
                    "responseMimeType": "application/json",
                    "responseSchema": gemini_schema(request.schema),
                },
            })
        text = dig(body, "candidates", 0, "content", "parts", 0, "text")
        if not isinstance(text, str):
            reason = dig(body, "candidates", 0, "finishReason") or \
                dig(body, "promptFeedback", "blockReason")
            raise InvalidOutput("gemini: reply has no candidates[0].content.parts[0].text"
                                + (f" ({reason})" if reason else ""))
        return Completion(text=text, model=str(dig(body, "modelVersion") or self.model),
                          tokens_in=int(dig(body, "usageMetadata", "promptTokenCount") or 0),
                          tokens_out=int(dig(body, "usageMetadata", "candidatesTokenCount")
                                         or 0))

    async def health(self) -> Health:
        body = await self._send("GET", f"/v1beta/models/{self.model}", headers=self._headers())
        return Health(True, f"ok ({dig(body, 'displayName') or self.model})")
