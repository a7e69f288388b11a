import pytest

from reasonops_llm import GuardBlocked, LlmSettings, ServerError
from reasonops_llm.embeddings import build_embedder, cosine


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_embeddings_speak_the_api_and_similar_texts_are_close(kind, fake):
    server = await fake()
    embedder = build_embedder(f"{kind}:embed-model", LlmSettings(
        ollama_url=server.url, openai_url=server.url, openai_api_key="sk-test-abcdefghijklmnop1"))
    a, b, c = await embedder.embed(["disk full on fs-03", "disk full on fs-04",
                                    "checkout error rate high"])
    assert cosine(a, b) > cosine(a, c)
    assert server.requests[0].path == ("/api/embed" if kind == "ollama" else "/v1/embeddings")


async def test_external_embeddings_are_redacted(fake):
    server = await fake()
    embedder = build_embedder("openai:embed-model", LlmSettings(openai_url=server.url))
    await embedder.embed(["reported by jane.doe@example.com"])
    assert "jane.doe@example.com" not in server.seen_text()
    blocked = build_embedder("openai:embed-model", LlmSettings(
        openai_url=server.url, redact_patterns='{"bad": "(unclosed"}'))
    with pytest.raises(GuardBlocked):
        await blocked.embed(["anything"])


async def test_embedding_errors_are_provider_errors(fake):
    server = await fake(default="500")
    embedder = build_embedder("ollama:embed-model", LlmSettings(ollama_url=server.url))
    with pytest.raises(ServerError):
        await embedder.embed(["x"])


def test_no_spec_means_no_embedder():
    assert build_embedder("", LlmSettings()) is None
    with pytest.raises(ValueError, match="not supported"):
        build_embedder("gemini:text-embedding-004", LlmSettings())
