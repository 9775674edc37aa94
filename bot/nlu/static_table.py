"""A static token-embedding table distilled from the verified MiniLM weights.

The idea is Model2Vec's: run every token of the vocabulary through the encoder
once, on its own (``[CLS] token [SEP]``, mean-pooled as the model was trained),
keep the resulting vectors as a table, reduce them with PCA (which removes the
direction all single-token outputs share and keeps the spread that carries
meaning), and represent a sentence by the weighted mean of its tokens' rows.
A parse then costs a tokenizer call and a few dozen row look-ups
(microseconds) instead of six transformer layers, and training no longer runs
every example through the transformer.

What is lost is context: a bag of token vectors cannot tell "refund status"
from "refund request" by word order. That is why the classifier can still fall
back to the full encoder where the cheaper experts are unsure; the trade-off is
measured in ``bench/nlu/REPORT.md``.

Built at install time (``python -m bot.nlu.encoder`` builds the ONNX graph and
this table) or on first use, from the hash-verified files only, with the fp32
graph (every input has exactly three tokens, so batching is exact: no padding,
no per-batch quantisation scales). Written atomically next to the package,
named after the weights' hash, with its own sha256 recorded and checked on
every load: a changed table is refused with :class:`EncoderUnavailable`.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from pathlib import Path
from typing import Iterable

import numpy as np

from bot.nlu.encoder import (
    EXPECTED_SHA256,
    MAX_CHARS,
    EncoderUnavailable,
    build_graph,
    package_dir,
    read_verified,
)

logger = logging.getLogger(__name__)

#: dimensions kept after PCA (Model2Vec's default; 384 -> 256 loses little and is faster)
DIMENSION = 256
#: tokens looked at per sentence: bounds the cost of a huge message
MAX_TOKENS = 512
#: tokens per forward pass while distilling
_BATCH = 512
#: format version of the table file: bump when the distillation changes
VERSION = 1


def table_path() -> Path:
    """Where the table for the verified weights lives (named after their hash and our version)."""
    return package_dir() / f"minilm-l6-static-v{VERSION}-{EXPECTED_SHA256['model.safetensors'][:16]}.npy"


def distill(batch: int = _BATCH) -> np.ndarray:
    """One row per vocabulary token: the encoder's mean-pooled output for ``[CLS] t [SEP]``,
    centred and PCA-reduced to :data:`DIMENSION`, as float32."""
    import json

    import onnxruntime as ort
    from safetensors.numpy import load as load_safetensors

    weights = load_safetensors(read_verified("model.safetensors"))
    vocab = json.loads(read_verified("tokenizer.json"))["model"]["vocab"]
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    size = len(vocab)
    model = build_graph(weights)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    raw = np.zeros((size, weights["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
    for start in range(0, size, batch):
        ids = np.arange(start, min(size, start + batch), dtype=np.int64)
        tokens = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        (pooled,) = session.run(None, {"input_ids": tokens, "attention_mask": np.ones_like(tokens)})
        raw[start : start + len(ids)] = pooled
    centred = raw - raw.mean(axis=0, keepdims=True)
    # PCA by SVD of the covariance (384 x 384): deterministic up to each axis' sign,
    # which we fix (largest-magnitude loading positive) so two builds agree
    _, vectors = np.linalg.eigh(centred.T.astype(np.float64) @ centred.astype(np.float64))
    components = vectors[:, ::-1][:, :DIMENSION]
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(DIMENSION)])
    components *= signs
    return (centred @ components.astype(np.float32)).astype(np.float32)


def ensure_table() -> Path:
    """Build (once) the static table from the verified weights; return its path."""
    target = table_path()
    digest_file = target.with_suffix(".sha256")
    if target.is_file() and digest_file.is_file():
        return target
    table = distill()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "table.npy"
        np.save(partial, table, allow_pickle=False)
        digest = hashlib.sha256(partial.read_bytes()).hexdigest()
        partial.replace(target)
    digest_file.write_text(digest + "\n")
    logger.info("built %s (sha256 %s)", target, digest)
    return target


def load_table() -> np.ndarray:
    """The table, refused with a clear error unless it matches its recorded sha256."""
    path = ensure_table()
    data = path.read_bytes()
    expected = path.with_suffix(".sha256").read_text().strip()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise EncoderUnavailable(
            f"{path} has sha256 {actual}, recorded {expected}: the table changed; delete both files to rebuild"
        )
    import io

    table = np.load(io.BytesIO(data), allow_pickle=False)
    if table.ndim != 2 or table.shape[1] != DIMENSION or table.dtype != np.float32:
        raise EncoderUnavailable(f"{path} holds a {table.dtype} array of shape {table.shape}: delete it to rebuild")
    return table


def table_digest() -> str:
    """The recorded sha256 of the installed table (what a trained model was fitted on)."""
    return ensure_table().with_suffix(".sha256").read_text().strip()


class StaticEncoder:
    """Text -> token ids -> weighted mean of the table's rows, L2-normalised.

    ``weights`` (one per vocabulary token, e.g. an IDF learnt from the training
    data) scale each token's row; without them every token counts once.
    """

    def __init__(self, table: np.ndarray | None = None) -> None:
        from tokenizers import Tokenizer

        self.table = load_table() if table is None else table
        #: sha256 of the table file: a model trained on another table must not use this one
        self.digest = table_digest() if table is None else ""
        self.tokenizer = Tokenizer.from_str(read_verified("tokenizer.json").decode("utf-8"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    @property
    def vocabulary_size(self) -> int:
        return int(self.table.shape[0])

    def token_ids(self, text: str) -> np.ndarray:
        """The wordpiece ids of the text (no special tokens), at most :data:`MAX_TOKENS`."""
        ids = self.tokenizer.encode(text[:MAX_CHARS], add_special_tokens=False).ids
        return np.asarray(ids[:MAX_TOKENS], dtype=np.int64)

    def encode(self, texts: Iterable[str], weights: np.ndarray | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.token_ids(text)
            if not len(ids):
                continue
            vectors = self.table[ids]
            vector = (weights[ids] @ vectors) if weights is not None else vectors.sum(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[row] = vector / norm
        return out

    def idf(self, texts: Iterable[str]) -> np.ndarray:
        """Smoothed inverse document frequency of each vocabulary token over ``texts``
        (tokens never seen get the largest weight, as the rarest)."""
        texts = list(texts)
        counts = np.zeros(self.vocabulary_size, dtype=np.float64)
        for text in texts:
            counts[np.unique(self.token_ids(text))] += 1
        return np.log((1 + len(texts)) / (1 + counts)).astype(np.float32) + 1.0


_shared: StaticEncoder | None = None
_shared_lock = threading.Lock()


def shared_static_encoder() -> StaticEncoder:
    """One table per process (30,522 x 256 float32: 31 MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = StaticEncoder()
        return _shared
