"""The static token table distilled from MiniLM: verified, meaningful, bounded cost."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import static_table
from bot.nlu.encoder import EncoderUnavailable
from bot.nlu.static_table import StaticEncoder, load_table, table_path


def _plant(folder: Path, monkeypatch: pytest.MonkeyPatch, table: np.ndarray, digest: str | None = None) -> Path:
    monkeypatch.setenv("TANDEM_MINILM_DIR", str(folder))
    path = table_path()
    np.save(path, table, allow_pickle=False)
    path.with_suffix(".sha256").write_text((digest or hashlib.sha256(path.read_bytes()).hexdigest()) + "\n")
    return path


def test_a_changed_table_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _plant(tmp_path, monkeypatch, np.zeros((4, static_table.DIMENSION), dtype=np.float32))
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(EncoderUnavailable, match="sha256 .* recorded .* delete both files"):
        load_table()


def test_a_table_of_the_wrong_shape_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plant(tmp_path, monkeypatch, np.zeros((4, 7), dtype=np.float32))
    with pytest.raises(EncoderUnavailable, match="shape"):
        load_table()


def test_the_table_is_not_built_without_the_verified_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_MINILM_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(EncoderUnavailable, match="scripts/install.sh"):
        load_table()


@pytest.fixture(scope="module")
def encoder() -> StaticEncoder:
    return StaticEncoder()


def test_the_installed_table_matches_its_recorded_hash(encoder: StaticEncoder) -> None:
    path = table_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == path.with_suffix(".sha256").read_text().strip()
    assert encoder.table.shape[1] == static_table.DIMENSION
    assert encoder.vocabulary_size == 30522


def test_paraphrases_are_closer_than_unrelated_requests(encoder: StaticEncoder) -> None:
    texts = ["I am still waiting for my money back", "where is the refund you promised me",
             "what's the weather in Lisbon tomorrow"]
    vectors = encoder.encode(texts, encoder.idf(texts))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2]


def test_empty_text_gives_a_zero_vector(encoder: StaticEncoder) -> None:
    assert not encoder.encode(["", "   "]).any()


def test_a_megabyte_costs_what_a_short_text_costs(encoder: StaticEncoder) -> None:
    started = time.process_time()
    vectors = encoder.encode(["refund " * 150_000, "9" * 1_000_000, "ab1-" * 250_000])
    assert vectors.shape == (3, static_table.DIMENSION)
    assert time.process_time() - started < 5.0
