"""The local chat model: one llama.cpp instance behind LangChain's ChatLlamaCpp, loaded once.

`LanguageModel` is what the pipeline needs from a chat model; `rag.llm_server.ServerChatModel`
is the other implementation, for an LLM server shared by several kabar processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from rag.config import LLMSettings
from rag.errors import KabarError

# Evaluated prompt prefixes kept on disk (see ChatModel.warm_up).
_PREFIXES_KEPT = 4
# Logit bias that rules a token out (llama.cpp adds it to the token's logit).
BANNED_LOGIT_BIAS = -100.0


class LanguageModel(Protocol):
    """A chat model as the pipeline uses it (local llama.cpp, or an LLM server)."""

    def stream(self, messages: list) -> Iterator[str]:
        """Text pieces of the reply to `messages`, as generated."""
        ...

    def warm_up(self, messages: list, cache_dir: Path | None = None) -> None:
        """Get the static prompt prefix evaluated (and cached, on disk too when `cache_dir` is given)."""
        ...

    def complete(self, messages: list, max_tokens: int, stop: list[str], avoid: str = "") -> str:
        """The whole reply to `messages`, at most `max_tokens` long, cut at the first `stop` string.

        With `avoid`, the reply may not begin with the first token of that text (a second attempt at
        an answer that failed); "" when the model cannot be steered that way.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in the model's vocabulary."""
        ...

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` of each text (a server model asks for them all at once)."""
        ...

    def count_tokens_deferred(self, text: str) -> Callable[[], int]:
        """Start counting `text` now; the returned function gives the count when it is needed."""
        ...


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """llama.cpp prints load logs on the C-level stderr even with verbose=False; keep the terminal clean."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)


_LOAD_LOCK = threading.Lock()


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU has Intel AMX tiles (read from /proc/cpuinfo; False where it cannot be read)."""
    try:
        flags = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("amx_tile", "amx_int8"))


def repacking_enabled(setting: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """`llm.weight_repacking` resolved: "on"/"off" as said; "auto" is on unless the CPU has AMX."""
    if setting != "auto":
        return setting == "on"
    return not cpu_has_amx(cpuinfo)


@contextlib.contextmanager
def model_defaults(repack: bool) -> Iterator[None]:
    """Load a `llama_cpp.Llama` inside this block to set whether llama.cpp repacks its weights.

    llama-cpp-python's `Llama` has no argument for llama.cpp's `use_extra_bufts`; it reads the library's
    default model parameters, so those are what is changed, for the time of the load only.
    """
    import llama_cpp.llama_cpp as lib

    if repack:
        yield
        return
    original = lib.llama_model_default_params

    def without_repacking():  # noqa: ANN202 (a ctypes struct)
        params = original()
        params.use_extra_bufts = False
        return params

    with _LOAD_LOCK:
        lib.llama_model_default_params = without_repacking
        try:
            yield
        finally:
            lib.llama_model_default_params = original


class ChatModel:
    """A GGUF chat model with its own chat template. Thread-safe: one generation at a time."""

    def __init__(self, model_path: Path, settings: LLMSettings):
        self.model_path = model_path
        self.settings = settings
        self._lock = threading.Lock()
        threads = settings.n_threads or os.cpu_count() or 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.chat_models import ChatLlamaCpp
        # Resolved once: the prefix-cache key needs it too, and "auto" reads /proc/cpuinfo.
        self.repacking = repacking_enabled(settings.weight_repacking)
        try:
            with _quiet_stderr(), model_defaults(self.repacking):
                self.chat = ChatLlamaCpp(
                    model_path=str(model_path),
                    n_ctx=settings.n_ctx,
                    n_threads=threads,
                    n_batch=settings.n_batch,
                    seed=settings.seed,
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    top_k=1 if settings.temperature == 0 else 40,
                    # Explicit, not ChatLlamaCpp's silent default: a GGUF's own value is 0 (see config.yaml).
                    rope_freq_base=settings.rope_freq_base,
                    rope_freq_scale=0.0,
                    repeat_penalty=1.0,  # answers copy names from the excerpts: never penalise that
                    streaming=True,
                    verbose=False,
                    model_kwargs={"n_threads_batch": threads},
                )
        except Exception as exc:
            raise KabarError(
                f"cannot load the model {model_path}: {str(exc).splitlines()[0][:200]} "
                "(is it a complete GGUF file? check models.llm_path)"
            ) from None
        self.llama = self.chat.client
        # Tokens every prompt shares (system rules and examples), known after the warm-up: see _fresh().
        self._warm: list[int] = []
        self._static = 0
        from langchain_core.output_parsers import StrOutputParser

        # messages → chat model → text pieces, streamed.
        self.chain = self.chat | StrOutputParser()

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in this model's vocabulary."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """`count_tokens` of each text."""
        return [self.count_tokens(t) for t in texts]

    def count_tokens_deferred(self, text: str) -> Callable[[], int]:
        """Tokenizing locally is instant: counted when asked for."""
        return lambda: self.count_tokens(text)

    def stream(self, messages: list) -> Iterator[str]:
        """Text pieces of the reply to `messages` (LangChain messages or a prompt value), as generated."""
        with self._lock:
            self._fresh()
            for piece in self.chain.stream(messages):
                if piece:
                    yield piece
            self._learn_static()

    def complete(self, messages: list, max_tokens: int, stop: list[str], avoid: str = "") -> str:
        """The whole reply to `messages`, at most `max_tokens` long, cut at the first `stop` string.

        With `avoid`, the reply may not begin with the first token of that text.
        """
        options = {}
        if avoid.strip():
            first = self.llama.tokenize(avoid.strip().encode("utf-8"), add_bos=False, special=False)[:1]
            options["logit_bias"] = {first[0]: BANNED_LOGIT_BIAS}
        with self._lock:
            if not options:  # a second attempt reuses the whole prompt the first one evaluated
                self._fresh()
            text = "".join(str(m.content) for m in self.chat.stream(messages, max_tokens=max_tokens, stop=stop,
                                                                      **options))
            self._learn_static()
            return text

    def _fresh(self) -> None:
        """Keep only the static prefix of llama.cpp's cache, so a prompt is evaluated the same way every time.

        llama.cpp reuses the longest cached prefix of a new prompt, so how much of a prompt was
        evaluated together depended on the question before it, and the float rounding of a batch
        depends on its size: the same question could get another answer (or translation) in another
        order. Starting every new prompt right after the static prefix makes answers reproducible
        (`kabar ask` = `kabar eval`); a prompt only ever shared a few more template tokens with the last.
        """
        if self._static:
            self.llama.n_tokens = min(self.llama.n_tokens, self._static)

    def _learn_static(self) -> None:
        """After the first prompt that follows the warm-up: how many tokens the two share."""
        if self._static or not self._warm:
            return
        now = self.llama.input_ids[: self.llama.n_tokens].tolist()
        self._static = next((i for i, (a, b) in enumerate(zip(self._warm, now, strict=False)) if a != b),
                            min(len(self._warm), len(now)))

    def warm_up(self, messages: list, cache_dir: Path | None = None) -> None:
        """Evaluate the static prompt prefix so the first real question only pays for its own tokens.

        With `cache_dir`, the evaluated prefix (llama.cpp's state) is kept there and a later process
        with the same model, settings and prompt loads it instead of evaluating it again (about 9 s
        on 2 cores for `kabar ask`). The answers are the same either way: it is the same state.
        """
        with self._lock:
            path = cache_dir / f"prefix-{self._prefix_key(messages)}.npz" if cache_dir else None
            if path is not None and self._load_prefix(path):
                return
            for _ in self.chat.stream(messages, max_tokens=1):
                pass
            self._warm = self.llama.input_ids[: self.llama.n_tokens].tolist()
            if path is not None:
                self._save_prefix(path)

    def _prefix_key(self, messages: list) -> str:
        """What the evaluated prefix depends on: the model file, the llama.cpp build, the settings, the prompt."""
        import llama_cpp

        st = self.model_path.stat()
        s = self.settings
        parts = [str(self.model_path.resolve()), st.st_size, st.st_mtime_ns, llama_cpp.__version__, s.n_ctx,
                 s.n_batch, s.rope_freq_base, s.n_threads or os.cpu_count(), s.seed,
                 self.repacking,
                 *(f"{type(m).__name__}:{m.content}" for m in messages)]
        return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]

    def _save_prefix(self, path: Path) -> None:
        """Keep the evaluated prefix for later processes; a cache that cannot be written is only a cache."""
        import llama_cpp
        import numpy as np

        ctx = self.llama._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        state = np.frombuffer(buffer, dtype=np.uint8, count=written)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.savez(f, ids=np.array(self._warm, dtype=np.int32), state=state,
                         digest=np.frombuffer(hashlib.sha256(state).digest(), dtype=np.uint8))
            os.replace(tmp, path)
            # Each prompt or setting change makes a new one: only the newest few are worth their ~23 MB.
            kept = sorted(path.parent.glob("prefix-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in kept[_PREFIXES_KEPT:]:
                old.unlink()
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _load_prefix(self, path: Path) -> bool:
        """Restore a kept prefix; False (and the prefix is evaluated as usual) if it is missing or damaged."""
        import llama_cpp
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as saved:
                ids, state, digest = saved["ids"], saved["state"], saved["digest"].tobytes()
        except Exception:  # missing, truncated or not an npz file at all
            return False
        if hashlib.sha256(state).digest() != digest or not 0 < len(ids) <= self.settings.n_ctx:
            return False
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state.tobytes())
        if llama_cpp.llama_state_set_data(self.llama._ctx.ctx, buffer, len(state)) != len(state):
            self.llama.reset()
            return False
        self.llama.input_ids[: len(ids)] = ids
        self.llama.n_tokens = len(ids)
        self._warm = ids.tolist()
        # Pruning keeps the newest files: one in use counts as new, or another process's save could remove it.
        with contextlib.suppress(OSError):
            os.utime(path)
        return True
