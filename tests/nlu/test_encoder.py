"""The MiniLM encoder: verified files only, sensible embeddings, bounded cost."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import encoder as encoder_module
from bot.nlu.encoder import EncoderUnavailable, SentenceEncoder, read_verified


def _fake_package(folder: Path, files: dict[str, bytes]) -> Path:
    package = folder / "all_minilm_l6_v2"
    package.mkdir(parents=True)
    with zipfile.ZipFile(package / "model.zip", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return folder


def test_a_changed_upload_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_MINILM_DIR", str(_fake_package(tmp_path, {"tokenizer.json": b"{}"})))
    with pytest.raises(EncoderUnavailable, match="tokenizer.json .* sha256 .* refusing"):
        read_verified("tokenizer.json")


def test_a_missing_package_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_MINILM_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(EncoderUnavailable, match="scripts/install.sh"):
        read_verified("model.safetensors")


def test_a_file_missing_from_the_zip_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_MINILM_DIR", str(_fake_package(tmp_path, {"other.txt": b"x"})))
    with pytest.raises(EncoderUnavailable, match="has no config.json"):
        read_verified("config.json")


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_paraphrases_are_closer_than_unrelated_requests(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode([
        "I am still waiting for my money back",
        "where is the refund you promised me",
        "what's the weather in Lisbon tomorrow",
    ])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_an_embedding_depends_on_its_text_alone(encoder: SentenceEncoder) -> None:
    texts = ["cancel my order", "how do I reset my password please", "hi"]
    single = np.vstack([encoder._run([t]) for t in texts])
    together = encoder.encode(texts)
    again = encoder.encode(list(reversed(texts)))[::-1]  # from the cache
    assert np.array_equal(single, together)
    assert np.array_equal(together, again)


def test_a_megabyte_costs_what_a_short_text_costs(encoder: SentenceEncoder) -> None:
    started = time.process_time()
    vector = encoder.encode(["refund " * 150_000])
    assert vector.shape == (1, encoder_module.DIMENSION)
    assert time.process_time() - started < 10.0
