"""The chat model behind an OpenAI-compatible llama.cpp server, shared by several kabar processes.

Start the server with `python -m rag.llm_serve --model FILE --interrupt_requests False …`
(see README, Deployment). LangChain's ChatOpenAI talks to it; nothing here calls tiktoken or any
host but the server. The server answers one request at a time, in arrival order.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from rag.config import LLMSettings
from rag.errors import KabarError, ServiceUnavailable
from rag.llm import BANNED_LOGIT_BIAS

T = TypeVar("T")

# Token counts kept per process: retrieved sentences come back often, and every count not kept
# is a request that waits behind the server's current answer.
_COUNT_CACHE = 4096
# Sampling as in rag.llm.ChatModel (ChatLlamaCpp's top_p, llama.cpp's min_p), so both modes answer alike.
_TOP_P = 0.95
_MIN_P = 0.05
_GREEDY_TOP_K, _SAMPLING_TOP_K = 1, 40


def estimate_tokens(text: str) -> int:
    """A rough token count (about 4 characters a token) for servers without a tokenize endpoint."""
    return len(text) // 4 + 1


def api_root(server_url: str) -> str:
    """The server's root URL from its OpenAI base URL (…/v1 → …): where `/extras/tokenize` lives."""
    url = server_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class ServerChatModel:
    """The `LanguageModel` of the pipeline, answered by an LLM server. Thread-safe; holds no model."""

    def __init__(self, settings: LLMSettings):
        import httpx

        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise KabarError("llm.mode server needs the `server` extra: pip install -e '.[server]'") from None

        self.settings = settings
        self.url = settings.server_url.rstrip("/")
        self.root = api_root(self.url)
        self._http = httpx.Client(timeout=settings.timeout_s)
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._counts_lock = threading.Lock()
        self._tokenize_endpoint: bool | None = None  # unknown until the first count
        self._lead: list[int] | None = None  # what the server's tokenizer puts before any text
        self._pool = ThreadPoolExecutor(thread_name_prefix="kabar-tokenize")

        def model(max_tokens: int) -> ChatOpenAI:
            # llama_cpp.server reads `max_tokens`; ChatOpenAI would send it as `max_completion_tokens`,
            # which that server ignores (answers would run to the end of the context), so it goes in
            # extra_body with llama.cpp's own sampling fields.
            return ChatOpenAI(
                model=settings.server_model,
                base_url=self.url,
                api_key="unused",  # llama_cpp.server without --api_key accepts any
                temperature=settings.temperature,
                top_p=_TOP_P,
                seed=settings.seed,
                timeout=settings.timeout_s,
                max_retries=0,  # a failure reaches the user at once; a retry would only delay it
                streaming=True,
                stream_usage=False,
                use_responses_api=False,
                extra_body={
                    "max_tokens": max_tokens,
                    "top_k": _GREEDY_TOP_K if settings.temperature == 0 else _SAMPLING_TOP_K,
                    "min_p": _MIN_P,
                    "repeat_penalty": 1.0,  # answers copy names from the excerpts: never penalise that
                },
            )

        self.chat = model(settings.max_tokens)
        self._warm_chat = model(1)
        self._model = functools.lru_cache(maxsize=4)(model)

    # --- errors ------------------------------------------------------------------------------

    def _failure(self, exc: Exception) -> KabarError:
        """One line for what went wrong between us and the server."""
        import httpx
        import openai

        where = f"the LLM server at {self.url}"
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            return ServiceUnavailable(
                f"{where} did not answer within {self.settings.timeout_s:g} s (llm.timeout_s); is it overloaded?"
            )
        if isinstance(exc, (openai.APIConnectionError, httpx.ConnectError)):
            return ServiceUnavailable(f"cannot reach {where} — is `python -m rag.llm_serve` (llama_cpp.server) up?")
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code == 404:
                return ServiceUnavailable(f"{where} answered HTTP 404: is llm.server_url the server's …/v1 URL?")
            # openai's message is "Error code: N - <body>": the body is what says something.
            body = str(exc.message).partition(" - ")[2]
            return ServiceUnavailable(f"{where} answered HTTP {exc.status_code}" + (f": {body[:160]}" if body else ""))
        if isinstance(exc, httpx.HTTPStatusError):
            return ServiceUnavailable(f"{where} answered HTTP {exc.response.status_code} to a tokenize request")
        if isinstance(exc, (httpx.HTTPError, openai.APIError)):
            return ServiceUnavailable(f"{where} broke off ({type(exc).__name__}: {str(exc)[:160]})")
        return KabarError(f"{where}: unexpected {type(exc).__name__}: {str(exc)[:160]}")

    def _guarded(self, call: Callable[[], T]) -> T:
        import httpx
        import openai

        try:
            return call()
        except (httpx.HTTPError, openai.APIError) as exc:
            raise self._failure(exc) from None

    # --- generation --------------------------------------------------------------------------

    def stream(self, messages: list) -> Iterator[str]:
        """Text pieces of the reply to `messages`, as the server streams them."""
        import httpx
        import openai

        finished = False
        try:
            for chunk in self.chat.stream(messages):
                if chunk.response_metadata.get("finish_reason"):
                    finished = True
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except (httpx.HTTPError, openai.APIError) as exc:
            raise self._failure(exc) from None
        if not finished:
            # llama_cpp.server's default (--interrupt_requests True) ends a running answer early,
            # without a finish reason, as soon as another request arrives.
            raise ServiceUnavailable(
                f"the LLM server at {self.url} cut the answer short; start it with "
                "`--interrupt_requests False` so that several kabar processes can share it"
            )

    def complete(self, messages: list, max_tokens: int, stop: list[str], avoid: str = "") -> str:
        """The whole reply to `messages`, at most `max_tokens` long, cut at the first `stop` string.

        With `avoid`, the reply may not begin with the first token of that text; "" when the server
        cannot tell that token (no tokenize endpoint).
        """
        import httpx
        import openai

        options = {}
        if avoid.strip():
            tokens = self._guarded(lambda: self._token_ids(avoid.strip()))
            if self._lead is None:
                # The server's tokenizer adds the model's BOS token, if it has one (the empty text is just that).
                self._lead = self._guarded(lambda: self._token_ids("")) or []
            lead = self._lead
            if tokens and tokens[:len(lead)] == lead:
                tokens = tokens[len(lead):]
            if not tokens:
                return ""
            options["logit_bias"] = {str(tokens[0]): BANNED_LOGIT_BIAS}
        try:
            return "".join(str(c.content) for c in self._model(max_tokens).stream(messages, stop=stop, **options))
        except (httpx.HTTPError, openai.APIError) as exc:
            raise self._failure(exc) from None

    def warm_up(self, messages: list, cache_dir: Path | None = None) -> None:
        """One 1-token request: the server evaluates the static prefix and keeps it in its cache (not `cache_dir`)."""
        import httpx
        import openai

        try:
            for _ in self._warm_chat.stream(messages):
                pass
        except (httpx.HTTPError, openai.APIError) as exc:
            raise self._failure(exc) from None

    # --- token counts ------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` by the server's `/extras/tokenize` (cached); an estimate if it has none."""
        with self._counts_lock:
            hit = self._counts.get(text)
            if hit is not None:
                self._counts.move_to_end(text)
                return hit
        if self._tokenize_endpoint is False:
            return estimate_tokens(text)
        count = self._guarded(lambda: self._tokenize(text))
        with self._counts_lock:
            self._counts[text] = count
            while len(self._counts) > _COUNT_CACHE:
                self._counts.popitem(last=False)
        return count

    def _tokenize(self, text: str) -> int:
        tokens = self._token_ids(text)
        # Same count as rag.llm.ChatModel: the server adds no BOS for models that don't ask for one.
        return estimate_tokens(text) if tokens is None else len(tokens)

    def _token_ids(self, text: str) -> list[int] | None:
        """The server's token ids of `text`, or None when it has no tokenize endpoint."""
        if self._tokenize_endpoint is False:
            return None
        resp = self._http.post(f"{self.root}/extras/tokenize",
                               json={"input": text, "model": self.settings.server_model})
        if resp.status_code == 404:  # not llama_cpp.server (e.g. another OpenAI-compatible server)
            self._tokenize_endpoint = False
            return None
        resp.raise_for_status()
        self._tokenize_endpoint = True
        return list(resp.json()["tokens"])

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """Counts of `texts`, the uncached ones requested at once (each request waits for the server's turn)."""
        with self._counts_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._counts]
        if len(missing) > 1:
            futures = [self._pool.submit(self.count_tokens, t) for t in missing]
            for f in futures:
                f.result()
        return [self.count_tokens(t) for t in texts]

    def count_tokens_deferred(self, text: str) -> Callable[[], int]:
        """Send the count request now (it queues beside the answer's request), read it later."""
        future: Future[int] = self._pool.submit(self.count_tokens, text)
        return future.result
