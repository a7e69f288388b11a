"""A fake LLM server for tests: speaks every provider's real HTTP API on loopback.

Each call takes the next behaviour from ``script`` (then ``default``): ``ok`` answers
``answer(body)`` in the provider's format; ``malformed`` answers text that is not JSON;
``schema`` answers JSON that breaks the schema; ``429`` and ``500`` are HTTP errors;
``timeout`` answers after ``delay`` seconds. Every request is kept in ``requests``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_runtime.http import HttpServer

MALFORMED = '{"category": "database", "summary": "cut off'
SCHEMA_VIOLATION = {"category": "weather", "confidence": 7}


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _bag_of_words(text: str, size: int = 64) -> list[float]:
    import hashlib

    vector = [0.0] * size
    for word in text.lower().split():
        vector[int(hashlib.sha1(word.encode()).hexdigest(), 16) % size] += 1.0
    return vector


class FakeLlmServer:
    def __init__(self, answer: Callable[[Any], dict[str, Any]] | dict[str, Any], *,
                 script: list[str] | None = None, default: str = "ok",
                 retry_after: str = "1", delay: float = 2.0, models: tuple[str, ...] = ()
                 ) -> None:
        self.answer = answer
        self.script = list(script or [])
        self.default = default
        self.retry_after = retry_after
        self.delay = delay
        self.models = models
        self.requests: list[Seen] = []
        self.port = 0
        """The port it listens on, chosen by the system when it starts."""
        self._server: HttpServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeLlmServer:
        self._server = HttpServer(self._app(), "127.0.0.1", self.port)
        self.port = self._server.bind()
        await self._server.start()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    def seen_text(self) -> str:
        """Everything any client sent (headers excluded), for leak checks."""
        return "\n".join(s.body.decode(errors="replace") + s.path for s in self.requests)

    # -- behaviour --------------------------------------------------------------------
    async def _content(self, request: Request) -> tuple[str | None, Response | None]:
        seen = Seen(request.method, request.url.path + (f"?{request.url.query}"
                                                        if request.url.query else ""),
                    dict(request.headers), await request.body())
        self.requests.append(seen)
        behaviour = self.script.pop(0) if self.script else self.default
        if behaviour == "429":
            return None, JSONResponse({"error": {"message": "rate limited"}}, status_code=429,
                                      headers={"Retry-After": self.retry_after})
        if behaviour == "500":
            return None, JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if behaviour == "401":  # some servers echo what they were sent, prompt included
            echoed = " ".join(f"{k}={v}" for k, v in seen.headers.items())
            return None, JSONResponse({"error": {
                "message": f"invalid key: {echoed} for {seen.body.decode(errors='replace')}",
                "type": "authentication_error"}}, status_code=401)
        if behaviour == "timeout":
            await asyncio.sleep(self.delay)
        if behaviour == "malformed":
            return MALFORMED, None
        if behaviour == "schema":
            return json.dumps(SCHEMA_VIOLATION), None
        output = self.answer(seen.json()) if callable(self.answer) else self.answer
        return json.dumps(output), None

    # -- wire formats -----------------------------------------------------------------
    async def openai(self, request: Request) -> Response:
        content, error = await self._content(request)
        if error:
            return error
        return JSONResponse({"id": "chatcmpl-1", "object": "chat.completion",
                             "model": "fake-model", "choices": [{
                                 "index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                             "usage": {"prompt_tokens": 120, "completion_tokens": 40,
                                       "total_tokens": 160}})

    async def ollama(self, request: Request) -> Response:
        content, error = await self._content(request)
        if error:
            return error
        return JSONResponse({"model": "fake-model", "created_at": "2026-11-20T12:00:00Z",
                             "message": {"role": "assistant", "content": content},
                             "done": True, "prompt_eval_count": 120, "eval_count": 40})

    async def anthropic(self, request: Request) -> Response:
        content, error = await self._content(request)
        if error:
            return error
        assert content is not None
        try:
            block: dict[str, Any] = {"type": "tool_use", "id": "toolu_1",
                                     "name": "output", "input": json.loads(content)}
        except json.JSONDecodeError:
            block = {"type": "text", "text": content}
        return JSONResponse({"id": "msg_1", "type": "message", "role": "assistant",
                             "model": "fake-model", "content": [block],
                             "stop_reason": "tool_use",
                             "usage": {"input_tokens": 120, "output_tokens": 40}})

    async def gemini(self, request: Request) -> Response:
        content, error = await self._content(request)
        if error:
            return error
        return JSONResponse({"candidates": [{"content": {"role": "model",
                                                         "parts": [{"text": content}]},
                                             "finishReason": "STOP"}],
                             "usageMetadata": {"promptTokenCount": 120,
                                               "candidatesTokenCount": 40},
                             "modelVersion": "fake-model"})

    async def tgi(self, request: Request) -> Response:
        content, error = await self._content(request)
        if error:
            return error
        return JSONResponse({"generated_text": content,
                             "details": {"finish_reason": "eos_token", "generated_tokens": 40,
                                         "prefill": [{"id": i, "text": "x"}
                                                     for i in range(120)]}})

    async def listing(self, request: Request) -> Response:
        path = request.url.path
        self.requests.append(Seen(request.method, path, dict(request.headers), b""))
        if path == "/api/tags":
            return JSONResponse({"models": [{"name": m} for m in self.models]})
        if path in ("/v1/models", "/openai/models"):
            return JSONResponse({"object": "list", "data": [{"id": m} for m in self.models]})
        if path == "/info":
            return JSONResponse({"model_id": "fake-model"})
        if path == "/health":
            return Response(status_code=200)
        return JSONResponse({"name": path.rsplit("/", 1)[-1], "displayName": "Fake"})

    async def embeddings(self, request: Request) -> Response:
        """Bag-of-words vectors: texts sharing words point the same way."""
        body = json.loads(await request.body())
        self.requests.append(Seen(request.method, request.url.path, dict(request.headers),
                                  json.dumps(body).encode()))
        behaviour = self.script.pop(0) if self.script else self.default
        if behaviour in ("429", "500"):
            return JSONResponse({"error": "x"}, status_code=int(behaviour))
        vectors = [_bag_of_words(text) for text in body["input"]]
        if request.url.path == "/api/embed":
            return JSONResponse({"model": body["model"], "embeddings": vectors})
        return JSONResponse({"object": "list", "model": body["model"],
                             "data": [{"object": "embedding", "index": i, "embedding": v}
                                      for i, v in enumerate(vectors)],
                             "usage": {"prompt_tokens": 10, "total_tokens": 10}})

    def _app(self) -> Starlette:
        async def gemini_or_listing(request: Request) -> Response:
            if request.method == "POST":
                return await self.gemini(request)
            return await self.listing(request)

        return Starlette(routes=[
            Route("/v1/chat/completions", self.openai, methods=["POST"]),
            Route("/openai/deployments/{deployment}/chat/completions", self.openai,
                  methods=["POST"]),
            Route("/api/chat", self.ollama, methods=["POST"]),
            Route("/v1/messages", self.anthropic, methods=["POST"]),
            Route("/v1beta/models/{rest:path}", gemini_or_listing, methods=["GET", "POST"]),
            Route("/generate", self.tgi, methods=["POST"]),
            Route("/api/embed", self.embeddings, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            *(Route(p, self.listing) for p in ("/api/tags", "/v1/models", "/openai/models",
                                               "/info", "/health")),
        ])
