"""A fast, calibrated intent classifier with a built-in out-of-domain check.

Why not DIET: on this 2-core machine DIET needs ~20 s per epoch on our data
(far beyond the 3-minute training budget), and its softmax confidences are
poorly calibrated for rejecting queries unlike anything it was trained on.
A multinomial logistic regression on TF-IDF-weighted sparse features (the
word and character n-gram counts of Rasa's ``CountVectorsFeaturizer``s,
each featurizer's block L2-normalised on its own) trains in seconds, parses
in well under a millisecond and gives usable probabilities for the
``FallbackClassifier`` after it.

Two cheap nearest-neighbour checks on the same vectors (see the class
docstring): an *unfamiliar* message (nothing in the training data resembles
it, e.g. keyboard mash) gets confidence 0, so the FallbackClassifier asks to
rephrase; optionally, an in-domain prediction whose nearest in-domain example
is too far away is re-labelled ``out_of_scope_intent``. Thresholds can be
calibrated on the training data only (``auto``: a low quantile of the
leave-one-out nearest-neighbour similarities).

Dense sentence features (``encoder: minilm``, :mod:`bot.nlu.encoder`): a second
logistic regression on the all-MiniLM-L6-v2 embedding of the message, whose
log-probabilities are added to the sparse model's (a product of experts). The
encoder costs several times the rest of a parse, so it is consulted only when
the sparse model is unsure (top probability below ``encoder_gate``); a message
whose embedding is far from every in-domain training example
(``dense_similarity_threshold``) is out of scope. Training embeddings are cached
on disk by a hash of the text, so retraining re-uses them.

The model is stored as plain arrays (``.npz`` / JSON), no pickle.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_ARRAYS = "linear_intent_model.npz"
_REFERENCE = "training_matrix.npz"
_META = "meta.json"
_DENSE = "dense_model.npz"
_STATIC = "static_model.npz"


def sentence_blocks(message: Message) -> dict[str, sp.csr_matrix]:
    """The message's sparse sentence features of TEXT, one 1-row matrix per featurizer."""
    blocks: dict[str, list[sp.spmatrix]] = defaultdict(list)
    for features in message.features:
        if (
            features.attribute == TEXT
            and features.type == FEATURE_TYPE_SENTENCE
            and features.is_sparse()
        ):
            blocks[str(features.origin)].append(features.features)
    # one part per featurizer is the rule: scipy's hstack of a single block costs more than
    # the rest of training's feature plumbing together (bench/nlu/REPORT.md, retraining)
    return {
        origin: sp.csr_matrix(parts[0]) if len(parts) == 1 else sp.csr_matrix(sp.hstack(parts))
        for origin, parts in sorted(blocks.items())
    }


class FeatureTransform:
    """TF-IDF weighting and L2 normalisation per featurizer block, then block-wise hstack.

    Each block gets the same weight (norm 1 / sqrt(number of blocks)), so the
    many character n-grams do not drown the word features.
    """

    def __init__(self, origins: list[str], idf: dict[str, np.ndarray], widths: dict[str, int]) -> None:
        self.origins = origins
        self.idf = idf
        self.widths = widths

    @classmethod
    def fit(cls, rows: list[dict[str, sp.csr_matrix]]) -> "FeatureTransform":
        origins = sorted({origin for row in rows for origin in row})
        idf: dict[str, np.ndarray] = {}
        widths: dict[str, int] = {}
        for origin in origins:
            width = max(row[origin].shape[1] for row in rows if origin in row)
            stacked = _stack_block(rows, origin, width)
            transformer = TfidfTransformer(sublinear_tf=True, norm=None).fit(stacked)
            idf[origin] = transformer.idf_.astype(np.float32)
            widths[origin] = width
        return cls(origins, idf, widths)

    def transform(self, rows: list[dict[str, sp.csr_matrix]]) -> sp.csr_matrix:
        if not self.origins:
            raise ValueError("no sparse text features: put CountVectorsFeaturizers before this component")
        scale = 1.0 / np.sqrt(len(self.origins))
        parts = []
        for origin in self.origins:
            block = _stack_block(rows, origin, self.widths[origin]).astype(np.float32)
            block.eliminate_zeros()
            block.data = 1.0 + np.log(np.maximum(block.data, 1e-12))  # sublinear tf, as at fit time
            block = block.multiply(self.idf[origin]).tocsr()
            norms = np.sqrt(np.asarray(block.multiply(block).sum(axis=1))).ravel()
            norms[norms == 0] = 1.0
            parts.append(sp.diags((scale / norms).astype(np.float32)) @ block)
        return sp.csr_matrix(sp.hstack(parts))

    def row_entries(self, message: Message) -> tuple[np.ndarray, np.ndarray]:
        """One message's transformed features as (column indices, values), no matrix built.

        The parse-time path: a sentence has a few hundred non-zero n-grams, so
        working on those alone is much cheaper than scipy's matrix plumbing.
        """
        if not self.origins:
            raise ValueError("no sparse text features: put CountVectorsFeaturizers before this component")
        scale = 1.0 / np.sqrt(len(self.origins))
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        for features in message.features:
            if (
                features.attribute == TEXT
                and features.type == FEATURE_TYPE_SENTENCE
                and features.is_sparse()
            ):
                coo = features.features.tocoo()
                parts[str(features.origin)].append((coo.col, coo.data))
        all_cols: list[np.ndarray] = []
        all_values: list[np.ndarray] = []
        offset = 0
        for origin in self.origins:
            size = self.widths[origin]
            pieces = parts.get(origin)
            if pieces:
                cols = np.concatenate([p[0] for p in pieces]).astype(np.int64)
                data = np.concatenate([p[1] for p in pieces]).astype(np.float32)
                keep = (cols < size) & (data > 0)
                cols, data = cols[keep], data[keep]
                values = (1.0 + np.log(data)) * self.idf[origin][cols]
                norm = float(np.sqrt(np.dot(values, values)))
                if norm > 0:
                    all_cols.append(cols + offset)
                    all_values.append(values * (scale / norm))
            offset += size
        if not all_cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(all_cols), np.concatenate(all_values)


def _stack_block(rows: list[dict[str, sp.csr_matrix]], origin: str, width: int) -> sp.csr_matrix:
    """Stack one featurizer's rows; a row without that block (or a narrower one) is zero-padded."""
    padded = []
    for row in rows:
        block = row.get(origin)
        if block is None:
            padded.append(sp.csr_matrix((1, width), dtype=np.float32))
        elif block.shape[1] != width:
            block = block.tocsr()[:, :width] if block.shape[1] > width else sp.hstack(
                [block, sp.csr_matrix((1, width - block.shape[1]))]
            )
            padded.append(sp.csr_matrix(block))
        else:
            padded.append(block)
    return sp.csr_matrix(sp.vstack(padded))


def leave_one_out_nearest(matrix: sp.csr_matrix, chunk: int = 512) -> np.ndarray:
    """For each row (L2-normed), the cosine similarity of its nearest *other* row, in chunks."""
    rows = matrix.shape[0]
    out = np.zeros(rows, dtype=np.float32)
    transposed = matrix.T.tocsc()
    for start in range(0, rows, chunk):
        sims = (matrix[start : start + chunk] @ transposed).toarray()
        for offset in range(sims.shape[0]):
            sims[offset, start + offset] = -1.0
        out[start : start + chunk] = sims.max(axis=1)
    return out


def _threshold(setting: Any, loo: np.ndarray, quantile: float) -> Optional[float]:
    """A fixed float, ``auto`` (the ``quantile`` of ``loo``) or ``None`` (check off)."""
    if setting is None:
        return None
    if setting == "auto":
        return float(np.quantile(loo, quantile)) if len(loo) else None
    return float(setting)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Multinomial logistic regression on TF-IDF sparse features + nearest-neighbour checks.

    Two optional checks use the cosine similarity of the message to its nearest
    training example (same TF-IDF vectors, so they cost one sparse product):

    * ``unfamiliar_threshold``: nearest *any* training example below it means the
      message resembles nothing we know (keyboard mash, another language): the
      top intent's confidence is set to 0 so the FallbackClassifier asks to
      rephrase. ``auto`` = the ``unfamiliar_quantile`` of the leave-one-out
      nearest-neighbour similarities of the training examples.
    * ``similarity_threshold``: nearest *in-domain* (not ``out_of_scope_intent``)
      example below it re-labels an in-domain prediction as out of scope
      (``auto`` likewise with ``similarity_quantile``).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # inverse regularisation strength of the logistic regression
            "C": 10.0,
            # saga converges in ~20 s on our ~6,000 examples x 40,000 features; lbfgs needed ~80 s
            "solver": "saga",
            "max_iter": 300,
            "tol": 1e-3,
            # "balanced", a {intent: weight} mapping or null (plain frequencies)
            "class_weight": None,
            "out_of_scope_intent": "out_of_scope",
            "unfamiliar_threshold": "auto",
            "unfamiliar_quantile": 0.01,
            "similarity_threshold": None,
            "similarity_quantile": 0.01,
            "ranking_length": 10,
            "random_state": 42,
            # static sentence features: an IDF-weighted mean of token vectors distilled from
            # MiniLM (bot/nlu/static_table.py), an expert consulted on every parse (microseconds)
            "static_embeddings": False,
            "static_C": 10.0,
            "static_weight": 1.0,
            # dense sentence features: null (off) or "minilm" (bot/nlu/encoder.py)
            "encoder": None,
            # consult the encoder only when the top probability of the sparse (and static)
            # experts is below this
            # (1.0: always); see bench/nlu/REPORT.md for the measured trade-off
            "encoder_gate": 0.9,
            "dense_C": 10.0,
            "dense_max_iter": 300,
            # weight of the dense model's log-probabilities in the product of experts
            "dense_weight": 1.0,
            # an in-domain prediction whose embedding's nearest in-domain training example
            # is less similar than this is out of scope (null: off)
            "dense_similarity_threshold": None,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: Optional[np.ndarray] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
        transform: Optional[FeatureTransform] = None,
        reference: Optional[sp.csr_matrix] = None,
        in_domain_mask: Optional[np.ndarray] = None,
        thresholds: Optional[dict[str, Optional[float]]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.transform = transform
        self.thresholds = thresholds or {"unfamiliar": None, "similarity": None}
        self._set_reference(reference, in_domain_mask)
        self._coef_t = np.ascontiguousarray(coef.T) if coef is not None else None
        #: dense model: coef (classes x 384), intercept, in-domain training embeddings
        self.dense: Optional[dict[str, np.ndarray]] = None
        self._encoder: Any = None
        #: static model: coef (256 x classes), intercept, per-token IDF weights
        self.static: Optional[dict[str, np.ndarray]] = None
        self._static_encoder: Any = None

    def _set_reference(self, reference: Optional[sp.csr_matrix], mask: Optional[np.ndarray]) -> None:
        #: training examples x features (L2-normed rows) and which rows are in-domain
        self.reference = reference
        self.in_domain_mask = mask
        #: features x examples: a parse touches only the rows of the message's features
        self._reference_t = reference.T.tocsr() if reference is not None else None

    @property
    def threshold(self) -> Optional[float]:
        """The in-domain similarity threshold (None when that check is off)."""
        return self.thresholds.get("similarity")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    # ------------------------------------------------------------------ training

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        labels = np.array([m.get(INTENT) for m in examples])
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents; not trained")
            return self._resource
        rows = [sentence_blocks(m) for m in examples]
        self.transform = FeatureTransform.fit(rows)
        matrix = self.transform.transform(rows)

        model = LogisticRegression(
            C=float(self.config["C"]),
            max_iter=int(self.config["max_iter"]),
            class_weight=self.config["class_weight"],
            random_state=self.config["random_state"],
            solver=self.config["solver"],
            tol=float(self.config["tol"]),
            multi_class="multinomial",
        )
        model.fit(matrix, labels)
        self.classes = model.classes_
        self.coef = model.coef_.astype(np.float32)
        self.intercept = model.intercept_.astype(np.float32)
        self._coef_t = np.ascontiguousarray(self.coef.T)

        if self.config["static_embeddings"]:
            self._train_static([m.get(TEXT) for m in examples], labels)
        if self.config["encoder"]:
            self._train_dense([m.get(TEXT) for m in examples], labels)

        checks_on = (
            self.config["unfamiliar_threshold"] is not None or self.config["similarity_threshold"] is not None
        )
        if checks_on:
            in_domain = labels != self.config["out_of_scope_intent"]
            self._set_reference(sp.csr_matrix(matrix, dtype=np.float32), in_domain)
            self.thresholds = self._calibrate(matrix, in_domain)
        logger.info(
            "LinearIntentClassifier: %d examples, %d intents, %d features, thresholds %s",
            len(labels), len(self.classes), matrix.shape[1], self.thresholds,
        )
        self.persist()
        return self._resource

    def _train_dense(self, texts: list[str], labels: np.ndarray) -> None:
        embeddings = cached_embeddings(self._get_encoder(), texts)
        model = LogisticRegression(
            C=float(self.config["dense_C"]), max_iter=int(self.config["dense_max_iter"]), multi_class="multinomial",
            random_state=self.config["random_state"],
        )
        with warnings.catch_warnings():
            # a bounded number of iterations is a deliberate training-time budget
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(embeddings, labels)
        if list(model.classes_) != list(self.classes):
            raise ValueError("dense and sparse models disagree on the classes")
        in_domain = labels != self.config["out_of_scope_intent"]
        self.dense = {
            "coef_t": np.ascontiguousarray(model.coef_.T.astype(np.float32)),
            "intercept": model.intercept_.astype(np.float32),
            "reference": np.ascontiguousarray(embeddings[in_domain]),
        }

    def _train_static(self, texts: list[str], labels: np.ndarray) -> None:
        encoder = self._get_static_encoder()
        idf = encoder.idf(texts)
        model = LogisticRegression(
            C=float(self.config["static_C"]), max_iter=int(self.config["dense_max_iter"]),
            multi_class="multinomial", random_state=self.config["random_state"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(encoder.encode(texts, idf), labels)
        if list(model.classes_) != list(self.classes):
            raise ValueError("static and sparse models disagree on the classes")
        self.static = {
            "coef_t": np.ascontiguousarray(model.coef_.T.astype(np.float32)),
            "intercept": model.intercept_.astype(np.float32),
            "idf": idf,
            "table_sha256": np.array(encoder.digest),
        }

    def _get_static_encoder(self) -> Any:
        if self._static_encoder is None:
            from bot.nlu.static_table import shared_static_encoder

            self._static_encoder = shared_static_encoder()
        return self._static_encoder

    def _get_encoder(self) -> Any:
        if self._encoder is None:
            from bot.nlu.encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def _calibrate(self, matrix: sp.csr_matrix, in_domain: np.ndarray) -> dict[str, Optional[float]]:
        needs_loo = "auto" in (self.config["unfamiliar_threshold"], self.config["similarity_threshold"])
        loo_all = leave_one_out_nearest(matrix) if needs_loo and matrix.shape[0] > 1 else np.zeros(0)
        loo_in = np.zeros(0)
        if self.config["similarity_threshold"] == "auto" and in_domain.sum() > 1:
            loo_in = leave_one_out_nearest(sp.csr_matrix(matrix[in_domain]))
        return {
            "unfamiliar": _threshold(
                self.config["unfamiliar_threshold"], loo_all, float(self.config["unfamiliar_quantile"])
            ),
            "similarity": _threshold(
                self.config["similarity_threshold"], loo_in, float(self.config["similarity_quantile"])
            ),
        }

    # ------------------------------------------------------------------ inference

    def predict(self, messages: List[Message]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Class probabilities, nearest-any and nearest-in-domain similarity per message."""
        assert self.transform is not None and self._coef_t is not None
        probabilities = np.zeros((len(messages), len(self.intercept)), dtype=np.float32)
        nearest_any = np.ones(len(messages), dtype=np.float32)
        nearest_in = np.ones(len(messages), dtype=np.float32)
        for index, message in enumerate(messages):
            cols, values = self.transform.row_entries(message)
            scores = values @ self._coef_t[cols] + self.intercept
            scores = np.exp(scores - scores.max())
            probabilities[index] = scores / scores.sum()
            if self._reference_t is not None:
                if len(cols):
                    sims = np.asarray(self._reference_t[cols].T @ values).ravel()
                    nearest_any[index] = float(sims.max())
                    in_domain = sims[self.in_domain_mask] if self.in_domain_mask is not None else sims
                    nearest_in[index] = float(in_domain.max()) if len(in_domain) else 0.0
                else:
                    nearest_any[index] = nearest_in[index] = 0.0
        return probabilities, nearest_any, nearest_in

    def process(self, messages: List[Message]) -> List[Message]:
        if self.classes is None or not messages:
            return messages
        probabilities, nearest_any, nearest_in = self.predict(messages)
        self._consult_static(messages, probabilities)
        dense_near = self._consult_encoder(messages, probabilities)
        oos = self.config["out_of_scope_intent"]
        unfamiliar = self.thresholds.get("unfamiliar")
        similarity = self.thresholds.get("similarity")
        limit = int(self.config["ranking_length"]) or len(self.classes)
        dense_threshold = self.config["dense_similarity_threshold"]
        for message, probs, any_sim, in_sim, near in zip(
            messages, probabilities, nearest_any, nearest_in, dense_near
        ):
            if not message.get(TEXT):
                continue
            order = np.argsort(-probs)
            ranking = [{"name": str(self.classes[i]), "confidence": float(probs[i])} for i in order]
            top = dict(ranking[0])
            if unfamiliar is not None and any_sim < unfamiliar:
                # resembles nothing we were trained on: no evidence for any intent
                top["confidence"] = 0.0
            elif similarity is not None and top["name"] != oos and in_sim < similarity:
                # unlike anything we serve: out of scope, whatever the regression says
                top = {"name": oos, "confidence": float(1.0 - in_sim)}
                ranking = [top] + [r for r in ranking if r["name"] != oos]
            elif dense_threshold is not None and top["name"] != oos and near < float(dense_threshold):
                # its meaning is far from every in-domain example we have
                top = {"name": oos, "confidence": float(1.0 - near)}
                ranking = [top] + [r for r in ranking if r["name"] != oos]
            message.set(INTENT, top, add_to_output=True)
            message.set("intent_ranking", ranking[:limit], add_to_output=True)
        return messages

    def _consult_static(self, messages: List[Message], probabilities: np.ndarray) -> None:
        """Fuse in the static-embedding expert (in place), for every message with text."""
        if self.static is None or not bool(self.config["static_embeddings"]):
            return
        rows = [i for i, m in enumerate(messages) if m.get(TEXT)]
        if not rows:
            return
        vectors = self._get_static_encoder().encode([messages[i].get(TEXT) for i in rows], self.static["idf"])
        _fuse(probabilities, rows, vectors @ self.static["coef_t"] + self.static["intercept"],
              float(self.config["static_weight"]))

    def _consult_encoder(self, messages: List[Message], probabilities: np.ndarray) -> np.ndarray:
        """Where the sparse model is unsure, fuse in the dense model (in place).

        Returns each message's similarity to its nearest in-domain training
        embedding (1.0 where the encoder was not consulted).
        """
        near = np.ones(len(messages), dtype=np.float32)
        if self.dense is None:
            return near
        gate = float(self.config["encoder_gate"])
        unsure = [
            i for i, m in enumerate(messages) if m.get(TEXT) and float(probabilities[i].max()) < gate
        ]
        if not unsure:
            return near
        embeddings = self._get_encoder().encode([messages[i].get(TEXT) for i in unsure])
        _fuse(probabilities, unsure, embeddings @ self.dense["coef_t"] + self.dense["intercept"],
              float(self.config["dense_weight"]))
        if len(self.dense["reference"]):
            near[unsure] = (embeddings @ self.dense["reference"].T).max(axis=1)
        return near

    # ------------------------------------------------------------------ storage

    def persist(self) -> None:
        assert self.transform is not None and self.classes is not None
        with self._model_storage.write_to(self._resource) as model_dir:
            arrays: dict[str, np.ndarray] = {"coef": self.coef, "intercept": self.intercept}
            for index, origin in enumerate(self.transform.origins):
                arrays[f"idf_{index}"] = self.transform.idf[origin]
            if self.in_domain_mask is not None:
                arrays["in_domain_mask"] = self.in_domain_mask
            np.savez(model_dir / _ARRAYS, **arrays)
            if self.reference is not None:
                sp.save_npz(model_dir / _REFERENCE, self.reference)
            meta = {
                "classes": [str(c) for c in self.classes],
                "origins": self.transform.origins,
                "widths": self.transform.widths,
                "thresholds": self.thresholds,
            }
            (model_dir / _META).write_text(json.dumps(meta))
            if self.dense is not None:
                np.savez(model_dir / _DENSE, **self.dense)
            if self.static is not None:
                np.savez(model_dir / _STATIC, **self.static)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                meta = json.loads((model_dir / _META).read_text())
                with np.load(model_dir / _ARRAYS, allow_pickle=False) as arrays:
                    coef = arrays["coef"]
                    intercept = arrays["intercept"]
                    idf = {o: arrays[f"idf_{i}"] for i, o in enumerate(meta["origins"])}
                    mask = arrays["in_domain_mask"] if "in_domain_mask" in arrays.files else None
                reference_path = model_dir / _REFERENCE
                reference = sp.load_npz(reference_path).tocsr() if reference_path.exists() else None
                dense = static = None
                if (model_dir / _DENSE).exists():
                    with np.load(model_dir / _DENSE, allow_pickle=False) as arrays:
                        dense = {name: arrays[name] for name in arrays.files}
                if (model_dir / _STATIC).exists():
                    with np.load(model_dir / _STATIC, allow_pickle=False) as arrays:
                        static = {name: arrays[name] for name in arrays.files}
        except (ValueError, FileNotFoundError):
            logger.debug("LinearIntentClassifier: no trained model in %s, using an untrained one", resource.name)
            return cls(config, model_storage, resource)
        transform = FeatureTransform(meta["origins"], idf, {k: int(v) for k, v in meta["widths"].items()})
        component = cls(
            config, model_storage, resource,
            classes=np.array(meta["classes"]), coef=coef, intercept=intercept, transform=transform,
            reference=reference, in_domain_mask=mask, thresholds=meta["thresholds"],
        )
        if dense is not None and component.config["encoder"]:
            component.dense = dense
            # load (and verify) the encoder now: a changed or missing file fails the model
            # load with a clear error instead of the first customer's message
            component._get_encoder()
        if static is not None and component.config["static_embeddings"]:
            component.static = static
            # likewise: the table is checked against its recorded hash at load time, and
            # must be the one this model was trained on
            table = component._get_static_encoder().digest
            if str(static.get("table_sha256", "")) != table:
                from bot.nlu.encoder import EncoderUnavailable

                raise EncoderUnavailable(
                    f"this model was trained on static table sha256 {static.get('table_sha256')}, "
                    f"the installed one is {table}: retrain (make train)"
                )
        return component


def _fuse(probabilities: np.ndarray, rows: list[int], scores: np.ndarray, weight: float) -> None:
    """Product of experts, in place: p[rows] <- normalised p[rows] * softmax(scores) ** weight."""
    scores = scores - scores.max(axis=1, keepdims=True)
    log_expert = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    fused = np.log(np.maximum(probabilities[rows], 1e-12)) + weight * log_expert
    fused = np.exp(fused - fused.max(axis=1, keepdims=True))
    probabilities[rows] = fused / fused.sum(axis=1, keepdims=True)


def embedding_cache_path() -> Path:
    """Training embeddings cache (``TANDEM_NLU_CACHE`` overrides; never committed)."""
    from bot.nlu.encoder import EXPECTED_SHA256
    from bot.settings import ROOT

    folder = Path(os.environ.get("TANDEM_NLU_CACHE") or ROOT / "var" / "nlu-cache")
    return folder / f"minilm-{EXPECTED_SHA256['model.safetensors'][:12]}.npz"


def cached_embeddings(encoder: Any, texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts``, re-using (and extending) the on-disk cache keyed by text hash."""
    path = embedding_cache_path()
    keys = [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
    stored: dict[str, np.ndarray] = {}
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as arrays:
                stored = dict(zip(arrays["keys"].tolist(), arrays["vectors"]))
        except (ValueError, OSError, KeyError):
            logger.warning("embedding cache %s unreadable, recomputing", path)
    missing = sorted({t for t, k in zip(texts, keys) if k not in stored})
    if missing:
        for text, vector in zip(missing, encoder.encode(missing)):
            stored[hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()] = vector
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, keys=np.array(list(stored)), vectors=np.array(list(stored.values()), dtype=np.float32))
        partial.replace(path)
    logger.info("embeddings: %d texts, %d computed, %d from %s", len(texts), len(missing), len(texts) - len(missing), path)
    return np.array([stored[k] for k in keys], dtype=np.float32)
