"""Section 2: our pipeline against bare `llama_cpp.Llama` on the same GGUF and the same final prompts.

Each gold question is asked through `Pipeline.ask`, and the exact messages it sent to the model are
then run through a bare `Llama` built with the same parameters (n_ctx, threads, batch, seed, sampling).
The two models run interleaved, question by question, so machine noise hits both alike, and both
start from the same KV cache state: warmed with the static prompt prefix, then holding the previous
question's prompt and answer (llama.cpp reuses the longest common prefix).

Measured per question, for both: prompt tokens (total, and uncached = evaluated now), time to first
token, whole time, generation tokens/s (tokens after the first over the time after the first).

    python bench/run.py --only answers [--questions N]
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.common import TARGETS, Results, fmt, log, p50_p95, percentile, timed
from rag.config import Settings

# ChatLlamaCpp's constructor arguments that it passes on to `Llama` (langchain_community 0.4),
# read back from our chat model so the bare model is built the same way.
_LLAMA_PARAM_NAMES = ["rope_freq_scale", "rope_freq_base", "lora_path", "lora_base", "n_ctx", "n_parts", "seed",
                      "f16_kv", "logits_all", "vocab_only", "use_mlock", "n_threads", "n_batch", "use_mmap",
                      "last_n_tokens_size", "verbose"]


@dataclass
class PromptMeter:
    """Records, for the last generation of one `Llama`, its prompt length and how much was cached.

    It wraps the instance's `generate`, which llama-cpp-python calls with the whole prompt and which
    reuses the longest common prefix with the tokens already in the KV cache.
    """

    llama: Any
    total: int = 0
    cached: int = 0

    def __post_init__(self) -> None:
        original = self.llama.generate

        def generate(tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
            tokens = list(tokens)
            common = 0
            for a, b in zip(self.llama._input_ids.tolist(), tokens):  # noqa: B905 - lengths differ
                if a != b:
                    break
                common += 1
            self.total = len(tokens)
            # A fully cached prompt still re-evaluates its last token (llama-cpp-python needs fresh logits).
            self.cached = min(common, len(tokens) - 1)
            return original(tokens, *args, **kwargs)

        self.llama.generate = generate

    @property
    def uncached(self) -> int:
        return self.total - self.cached


@dataclass
class Gen:
    """Timing of one streamed generation."""

    ttft: float  # from the request to the first text piece
    total: float  # from the request to the end (for ours: the whole `ask`, checks included)
    stamps: list[float] = field(default_factory=list)  # perf_counter of each text piece
    prompt_total: int = 0
    prompt_uncached: int = 0

    @property
    def tokens(self) -> int:
        return len(self.stamps)

    @property
    def tps(self) -> float:
        """Generation speed: pieces after the first over the time after the first (nan below 2 pieces)."""
        if len(self.stamps) < 2 or self.stamps[-1] <= self.stamps[0]:
            return float("nan")
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


class StreamClock:
    """Timestamps the text pieces our ChatModel streams (wraps `model.stream` on the instance)."""

    def __init__(self, model: Any):
        self.stamps: list[float] = []
        original = model.stream

        def stream(messages: list) -> Iterator[str]:
            self.stamps = []
            for piece in original(messages):
                self.stamps.append(time.perf_counter())
                yield piece

        model.stream = stream


def bare_llama(chat: Any, repacking: bool) -> Any:
    """A bare `llama_cpp.Llama` on the same GGUF with the same parameters as our ChatLlamaCpp.

    `repacking`: whether llama.cpp repacks the weights, as our model was loaded (`ChatModel.repacking`).
    """
    from llama_cpp import Llama

    from rag.llm import _quiet_stderr, model_defaults

    params = {k: getattr(chat, k) for k in _LLAMA_PARAM_NAMES}
    if chat.n_gpu_layers is not None:
        params["n_gpu_layers"] = chat.n_gpu_layers
    params.update(chat.model_kwargs)
    with _quiet_stderr(), model_defaults(repacking):
        return Llama(chat.model_path, **params)


def sampling_params(chat: Any) -> dict[str, Any]:
    """The `create_chat_completion` arguments our ChatLlamaCpp sends (max_tokens, temperature, top_k …)."""
    params = dict(chat._default_params)
    params["stop"] = params.pop("stop_sequences", None) or []
    return params


def bare_run(llm: Any, messages: list[dict], params: dict[str, Any]) -> Gen:
    """One streamed chat completion on a bare Llama, timed like ours."""
    start = time.perf_counter()
    stamps: list[float] = []
    for chunk in llm.create_chat_completion(messages=messages, stream=True, **params):
        choices = chunk.get("choices") or []
        if choices and (choices[0].get("delta") or {}).get("content"):
            stamps.append(time.perf_counter())
    end = time.perf_counter()
    return Gen(ttft=(stamps[0] - start) if stamps else end - start, total=end - start, stamps=stamps)


def message_dicts(messages: list) -> list[dict]:
    """LangChain messages as ChatLlamaCpp hands them to llama-cpp-python."""
    from langchain_community.chat_models.llamacpp import _convert_message_to_dict

    return [_convert_message_to_dict(m) for m in messages]


def run(settings: Settings, questions: list[tuple[str, str]], results: Results) -> None:
    """Ask every (id, question) through our pipeline and the same prompts through bare llama-cpp."""
    from rag.answer import Pipeline

    cold = settings.model_copy(update={"llm": settings.llm.model_copy(update={"warm_up": False})})
    load_s, pipe = timed(lambda: Pipeline.from_settings(cold))
    warm_s, _ = timed(lambda: pipe.model.warm_up(pipe.prompts.prefix))
    chat = pipe.model.chat
    params = sampling_params(chat)
    bare_load_s, bare = timed(lambda: bare_llama(chat, pipe.model.repacking))
    prefix = message_dicts(pipe.prompts.prefix)
    bare_warm_s, _ = timed(lambda: bare_run(bare, prefix, {**params, "max_tokens": 1}))
    ours_meter, bare_meter = PromptMeter(pipe.model.llama), PromptMeter(bare)
    clock = StreamClock(pipe.model)
    log(f"answers: model loaded in {load_s:.1f} s, warm-up {warm_s:.1f} s; {len(questions)} questions, "
        "ours and bare interleaved")

    ours: list[Gen] = []
    theirs: list[Gen] = []
    same_prompt = 0
    interrupted = False
    try:
        for i, (qid, question) in enumerate(questions, 1):
            answer = pipe.ask(question)
            o = Gen(answer.ttft_s, answer.latency_s, list(clock.stamps), ours_meter.total, ours_meter.uncached)
            b = bare_run(bare, message_dicts(answer.messages), params)
            b.prompt_total, b.prompt_uncached = bare_meter.total, bare_meter.uncached
            same_prompt += o.prompt_total == b.prompt_total
            ours.append(o)
            theirs.append(b)
            log(f"  [{i}/{len(questions)}] {qid}: ours ttft {o.ttft:.2f} s total {o.total:.2f} s "
                f"{o.tps:.1f} tok/s | bare ttft {b.ttft:.2f} s {b.tps:.1f} tok/s | prompt {o.prompt_total} "
                f"({o.prompt_uncached} uncached)")
    except KeyboardInterrupt:
        interrupted = True  # report the questions done, then stop the run
    if ours:
        done = len(ours)
        results.notes.append(
            f"Answers: {done}{f' (interrupted) of {len(questions)}' if interrupted else ''} answerable questions "
            f"of `eval/seeds_gold.jsonl`, model `{pipe.model.model_path.name}`, n_ctx {chat.n_ctx}, "
            f"{chat.n_threads} threads, n_batch {chat.n_batch}, max_tokens {params['max_tokens']}; ours and bare "
            "llama-cpp interleaved per question, same KV-cache state (static prefix warmed, then the previous "
            f"question). Identical prompt token counts: {same_prompt}/{done}.")
        _rows(results, ours, theirs, load_s, warm_s, bare_load_s, bare_warm_s)
        results.series["answers"] = [
            {"id": qid, "ttft": o.ttft, "total": o.total, "bare_ttft": b.ttft, "tps": o.tps, "bare_tps": b.tps,
             "prompt_total": o.prompt_total, "prompt_uncached": o.prompt_uncached}
            for (qid, _), o, b in zip(questions, ours, theirs, strict=False)
        ]
    if interrupted:
        raise KeyboardInterrupt

def _rows(results: Results, ours: list[Gen], theirs: list[Gen], load_s: float, warm_s: float,
          bare_load_s: float, bare_warm_s: float) -> None:
    sec = "2 answers"
    add = results.add
    tot, unc = p50_p95([float(g.prompt_total) for g in ours]), p50_p95([float(g.prompt_uncached) for g in ours])
    add(sec, "prompt tokens p50 / p95: total (uncached)",
        f"{tot[0]:.0f} ({unc[0]:.0f}) / {tot[1]:.0f} ({unc[1]:.0f})")
    o_ttft, b_ttft = p50_p95([g.ttft for g in ours]), p50_p95([g.ttft for g in theirs])
    add(sec, "time to first token p50, ours", fmt(o_ttft[0], "s"), TARGETS["ttft_p50"], o_ttft[0])
    add(sec, "time to first token p95, ours / bare", f"{fmt(o_ttft[1], 's')} / {fmt(b_ttft[1], 's')}")
    add(sec, "time to first token p50, bare llama-cpp", fmt(b_ttft[0], "s"))
    ttft_ratio = percentile([o.ttft / b.ttft for o, b in zip(ours, theirs, strict=True) if b.ttft > 0], 0.5)
    add(sec, "first-token time ratio ours/bare (median per question)", fmt(ttft_ratio),
        note="ours includes retrieval and evidence selection")
    o_tot, b_tot = p50_p95([g.total for g in ours]), p50_p95([g.total for g in theirs])
    add(sec, "whole answer p50, ours", fmt(o_tot[0], "s"), TARGETS["total_p50"], o_tot[0])
    add(sec, "whole answer p95, ours / bare", f"{fmt(o_tot[1], 's')} / {fmt(b_tot[1], 's')}")
    o_tps = p50_p95([g.tps for g in ours if g.tps == g.tps])
    b_tps = p50_p95([g.tps for g in theirs if g.tps == g.tps])
    add(sec, "generation tokens/s p50 / p95, ours", f"{fmt(o_tps[0], digits=1)} / {fmt(o_tps[1], digits=1)}")
    add(sec, "generation tokens/s p50 / p95, bare", f"{fmt(b_tps[0], digits=1)} / {fmt(b_tps[1], digits=1)}")
    ratios = [o.tps / b.tps for o, b in zip(ours, theirs, strict=True) if o.tps == o.tps and b.tps == b.tps]
    gen_ratio = percentile(ratios, 0.5)
    add(sec, "generation speed ratio ours/bare (median per question)", fmt(gen_ratio), TARGETS["gen_ratio"],
        gen_ratio, note=f"{len(ratios)} questions with ≥ 2 tokens")
    n_ours, n_bare = (percentile([float(g.tokens) for g in gens], 0.5) for gens in (ours, theirs))
    add(sec, "tokens generated p50, ours / bare", f"{n_ours:.0f} / {n_bare:.0f}")
    add(sec, "model load / warm-up (static prefix), ours", f"{load_s:.1f} s / {warm_s:.1f} s",
        note=f"bare: {bare_load_s:.1f} s / {bare_warm_s:.1f} s; load includes opening the store")
