"""Model clients, one module per provider as in the reference
(``minions_rs.clients.ollama.OllamaClient``), and ``client("provider/model")``
for any provider."""

from .azure_openai import AzureOpenAIClient
from .base import Client, client
from .ollama import OllamaClient
from .openai import OpenAIClient
from .anthropic import AnthropicClient
from .together import TogetherClient
from .openrouter import OpenRouterClient
from .perplexity import PerplexityClient
from .groq import GroqClient
from .deepseek import DeepSeekClient
from .gemini import GeminiClient
from .mistral import MistralClient
from .llama_cpp import LlamaCppClient
from .mlx_lm import MLXLMClient
from .lmstudio import LMStudioClient
from .tokasaurus import TokasaurusClient
from .sambanova import SambanovaClient

__all__ = [
    "AnthropicClient",
    "AzureOpenAIClient",
    "Client",
    "DeepSeekClient",
    "GeminiClient",
    "GroqClient",
    "LMStudioClient",
    "LlamaCppClient",
    "MLXLMClient",
    "MistralClient",
    "OllamaClient",
    "OpenAIClient",
    "OpenRouterClient",
    "PerplexityClient",
    "SambanovaClient",
    "TogetherClient",
    "TokasaurusClient",
    "client",
]
