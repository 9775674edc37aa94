"""LinearIntentClassifier as a Rasa graph component: train, process, persist, load.

The features come from a real sklearn CountVectorizer wrapped in Rasa
``Features`` (what CountVectorsFeaturizer produces), stored in a real
``LocalModelStorage``; no Rasa training run is needed, so this stays fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer

from bot.nlu.linear_classifier import LinearIntentClassifier

EXAMPLES = {
    "track_order": ["where is my order", "track my parcel", "order status please", "where is my package now",
                    "has my order shipped", "tracking for my parcel"],
    "get_refund": ["i want a refund", "give me my money back", "refund please", "i need a refund for this",
                   "money back for the broken item", "can i get a refund"],
    "out_of_scope": ["what is the weather", "tell me a joke", "book a flight to rome", "how tall is everest",
                     "play some music", "what time is it in tokyo", "recipe for pancakes", "who won the game"],
}


@pytest.fixture(scope="module")
def vectorizers() -> dict[str, CountVectorizer]:
    texts = [t for ts in EXAMPLES.values() for t in ts]
    return {
        "words": CountVectorizer().fit(texts),
        "chars": CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit(texts),
    }


def featurise(text: str, vectorizers: dict[str, CountVectorizer], intent: str | None = None) -> Message:
    data = {TEXT: text}
    if intent:
        data[INTENT] = intent
    message = Message(data=data)
    for origin, vectorizer in vectorizers.items():
        message.add_features(Features(sp.coo_matrix(vectorizer.transform([text])), FEATURE_TYPE_SENTENCE, TEXT, origin))
    return message


def training_data(vectorizers: dict[str, CountVectorizer]) -> TrainingData:
    return TrainingData([featurise(t, vectorizers, i) for i, ts in EXAMPLES.items() for t in ts])


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="intent_classifier")


def create(storage: LocalModelStorage, **config: object) -> LinearIntentClassifier:
    return LinearIntentClassifier.create(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("linear"), context()
    )


def test_trains_and_classifies(storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]) -> None:
    component = create(storage, similarity_threshold=None, unfamiliar_threshold=None)
    component.train(training_data(vectorizers))
    assert component.reference is None  # no check configured: no training matrix kept
    messages = component.process([
        featurise("where is my parcel", vectorizers),
        featurise("i want my money back", vectorizers),
        featurise("weather in rome", vectorizers),
    ])
    assert [m.get(INTENT)["name"] for m in messages] == ["track_order", "get_refund", "out_of_scope"]
    ranking = messages[0].get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "track_order"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)
    assert all(a["confidence"] >= b["confidence"] for a, b in zip(ranking, ranking[1:]))


def test_persist_and_load_give_the_same_answers(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]
) -> None:
    trained = create(storage, similarity_threshold="auto")
    trained.train(training_data(vectorizers))
    loaded = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("linear"), context()
    )
    assert loaded.thresholds == pytest.approx(trained.thresholds)
    assert loaded.thresholds["unfamiliar"] is not None and loaded.thresholds["similarity"] is not None
    for text in ["track my order", "refund please now", "pancakes", "something else entirely"]:
        a = trained.process([featurise(text, vectorizers)])[0].get("intent_ranking")
        b = loaded.process([featurise(text, vectorizers)])[0].get("intent_ranking")
        assert [r["name"] for r in a] == [r["name"] for r in b]
        assert np.allclose([r["confidence"] for r in a], [r["confidence"] for r in b], atol=1e-6)


def test_parse_path_matches_the_training_transform(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]
) -> None:
    component = create(storage)
    component.train(training_data(vectorizers))
    message = featurise("where is my order, where is it", vectorizers)
    from bot.nlu.linear_classifier import sentence_blocks

    dense = component.transform.transform([sentence_blocks(message)]).toarray().ravel()
    cols, values = component.transform.row_entries(message)
    sparse_as_dense = np.zeros_like(dense)
    sparse_as_dense[cols] = values
    assert np.allclose(dense, sparse_as_dense, atol=1e-6)
    assert np.linalg.norm(dense) == pytest.approx(1.0, abs=1e-5)  # blocks of norm 1/sqrt(2) each


def test_unlike_anything_in_domain_becomes_out_of_scope(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]
) -> None:
    # a fixed threshold above any similarity an unseen word salad can reach
    component = create(storage, similarity_threshold=0.5, unfamiliar_threshold=None)
    component.train(training_data(vectorizers))
    odd = component.process([featurise("zzz qqq", vectorizers)])[0]
    assert odd.get(INTENT)["name"] == "out_of_scope"
    close = component.process([featurise("where is my order", vectorizers)])[0]
    assert close.get(INTENT)["name"] == "track_order"


def test_auto_threshold_is_calibrated_on_training_data(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]
) -> None:
    component = create(
        storage, similarity_threshold="auto", similarity_quantile=0.5, unfamiliar_threshold=None
    )
    component.train(training_data(vectorizers))
    assert component.threshold is not None and 0.0 < component.threshold < 1.0
    # in-domain training examples are (by construction) mostly above their median neighbour similarity
    kept = component.process([featurise(t, vectorizers) for t in EXAMPLES["track_order"]])
    assert sum(m.get(INTENT)["name"] == "track_order" for m in kept) >= 3


def test_untrained_component_leaves_messages_alone(storage: LocalModelStorage) -> None:
    component = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("never_trained"), context()
    )
    message = Message(data={TEXT: "hello"})
    assert component.process([message])[0].get(INTENT) is None


def test_needs_sparse_features(storage: LocalModelStorage) -> None:
    component = create(storage)
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, ts in EXAMPLES.items() for t in ts])
    with pytest.raises(ValueError, match="CountVectorsFeaturizer"):
        component.train(data)


def test_unfamiliar_message_gets_zero_confidence(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer]
) -> None:
    """Keyboard mash: the top intent stays, with confidence 0, so the FallbackClassifier takes over."""
    component = create(storage, unfamiliar_threshold="auto", unfamiliar_quantile=0.01)
    component.train(training_data(vectorizers))
    assert 0.0 < component.thresholds["unfamiliar"] < 1.0
    mash = component.process([featurise("zzz qqq", vectorizers)])[0]
    assert mash.get(INTENT)["confidence"] == 0.0
    known = component.process([featurise("where is my order", vectorizers)])[0]
    assert known.get(INTENT) == {"name": "track_order", "confidence": pytest.approx(known.get(INTENT)["confidence"])}
    assert known.get(INTENT)["confidence"] > 0.3


def test_leave_one_out_ignores_the_row_itself() -> None:
    from bot.nlu.linear_classifier import leave_one_out_nearest

    rows = sp.csr_matrix(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32))
    assert np.allclose(leave_one_out_nearest(rows, chunk=2), [0.6, 0.8, 0.8])


def test_dense_features_bridge_words_the_sparse_model_never_saw(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the encoder (always consulted), a paraphrase sharing no word with the training
    data is understood; the dense model survives persist and load; embeddings are cached."""
    monkeypatch.setenv("TANDEM_NLU_CACHE", str(tmp_path / "cache"))
    from bot.nlu.linear_classifier import embedding_cache_path

    config = {"encoder": "minilm", "encoder_gate": 1.01, "unfamiliar_threshold": None}
    trained = create(storage, **config)
    trained.train(training_data(vectorizers))
    assert trained.dense is not None and embedding_cache_path().is_file()
    loaded = LinearIntentClassifier.load(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("linear"), context()
    )
    for component in (trained, loaded):
        reimburse = component.process([featurise("could you reimburse me", vectorizers)])[0]
        assert reimburse.get(INTENT)["name"] == "get_refund"
        delivery = component.process([featurise("whereabouts is the shipment", vectorizers)])[0]
        assert delivery.get(INTENT)["name"] == "track_order"


def test_a_confident_sparse_answer_does_not_consult_the_encoder(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANDEM_NLU_CACHE", str(tmp_path / "cache"))
    component = create(storage, encoder="minilm", encoder_gate=0.0, unfamiliar_threshold=None)
    component.train(training_data(vectorizers))
    encoder = component._get_encoder()
    before = len(encoder._cache)
    component.process([featurise("a sentence never seen before by anyone", vectorizers)])
    assert len(encoder._cache) == before


def test_static_embeddings_bridge_words_without_the_encoder(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The static-table expert alone (no encoder) understands a paraphrase sharing no word
    with the training data, and survives persist and load; the encoder is never built."""
    from bot.nlu import encoder as encoder_module

    def no_encoder() -> None:
        raise AssertionError("the transformer must not run when only the static table is on")

    monkeypatch.setattr(encoder_module, "shared_encoder", no_encoder)
    config = {"static_embeddings": True, "static_weight": 3.0, "unfamiliar_threshold": None}
    trained = create(storage, **config)
    trained.train(training_data(vectorizers))
    assert trained.static is not None and trained.dense is None
    loaded = LinearIntentClassifier.load(
        {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("linear"), context()
    )
    assert loaded.static is not None
    for component in (trained, loaded):
        delivery = component.process([featurise("whereabouts is the shipment", vectorizers)])[0]
        assert delivery.get(INTENT)["name"] == "track_order"
        ranking = delivery.get("intent_ranking")
        assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-4


def test_a_model_trained_on_another_static_table_is_refused(
    storage: LocalModelStorage, vectorizers: dict[str, CountVectorizer],
) -> None:
    from bot.nlu.encoder import EncoderUnavailable

    config = {"static_embeddings": True, "unfamiliar_threshold": None}
    trained = create(storage, **config)
    trained.train(training_data(vectorizers))
    trained.static["table_sha256"] = np.array("0" * 64)
    trained.persist()
    with pytest.raises(EncoderUnavailable, match="trained on static table sha256 0+, .* retrain"):
        LinearIntentClassifier.load(
            {**LinearIntentClassifier.get_default_config(), **config}, storage, Resource("linear"), context()
        )
