"""Hugging Face text-generation-inference (self-hosted TGI or an Inference Endpoint):
``POST /generate`` with a JSON grammar built from the schema."""

from __future__ import annotations

from ..errors import InvalidOutput
from ..messages import Completion, CompletionRequest, Health
from .base import HttpProvider, dig


def render(request: CompletionRequest) -> str:
    """A plain chat transcript; TGI applies no chat template on ``/generate``."""
    turns = [f"System: {request.system}"]
    turns += [f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}"
              for m in request.messages]
    return "\n\n".join(turns) + "\n\nAssistant:"


class HuggingFaceProvider(HttpProvider):
    kind = "huggingface"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    async def complete(self, request: CompletionRequest) -> Completion:
        body = await self._send("POST", "/generate", headers=self._headers(), json={
            "inputs": render(request),
            "parameters": {
                "max_new_tokens": request.max_tokens,
                "do_sample": False,
                "return_full_text": False,
                "details": True,
                "decoder_input_details": True,
                "grammar": {"type": "json", "value": request.schema},
            },
        })
        if isinstance(body, list):  # Inference API style: a list of one generation
            body = body[0] if body else {}
        text = dig(body, "generated_text")
        if not isinstance(text, str):
            raise InvalidOutput("huggingface: reply has no generated_text")
        prefill = dig(body, "details", "prefill")
        return Completion(text=text, model=self.model,
                          tokens_in=len(prefill) if isinstance(prefill, list) else 0,
                          tokens_out=int(dig(body, "details", "generated_tokens") or 0))

    async def health(self) -> Health:
        await self._send("GET", "/health", headers=self._headers())
        info = await self._send("GET", "/info", headers=self._headers())
        return Health(True, f"ok ({dig(info, 'model_id') or self.model})")
