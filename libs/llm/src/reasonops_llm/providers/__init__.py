"""Provider clients, one module per wire format."""

from .anthropic import AnthropicProvider
from .base import HttpProvider, ProviderEndpoint
from .gemini import GeminiProvider
from .huggingface import HuggingFaceProvider
from .ollama import OllamaProvider
from .openai import AzureOpenAIProvider, OpenAIProvider

__all__ = [
    "AnthropicProvider",
    "AzureOpenAIProvider",
    "GeminiProvider",
    "HttpProvider",
    "HuggingFaceProvider",
    "OllamaProvider",
    "OpenAIProvider",
    "ProviderEndpoint",
]
