"""The signed identity a host site gives the widget: what is accepted and what is not."""

from __future__ import annotations

import os
import stat

import jwt
import pytest

from bot.identity_token import InvalidIdentityToken, identity_secret, issue, verify

SECRET = "a-test-secret-" + "x" * 60
NOW = 1_800_000_000


def test_a_token_round_trips_its_claims() -> None:
    token = issue(SECRET, "site-user-7", now=NOW, customer_number="C1000003", name="Amelia")
    claims = verify(token, SECRET, now=NOW + 10)
    assert claims.subject == "site-user-7"
    assert claims.customer_number == "C1000003"
    assert claims.name == "Amelia"
    assert claims.identifiers() == [("customer_number", "C1000003")]


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        42,
        {"sub": "x"},
        "not.a.jwt",
        "x" * 5000,
        issue("another-secret-that-is-long-enough-for-hs256", "u1", now=NOW),
        jwt.encode({"sub": "u1", "aud": "tandem", "iat": NOW, "exp": NOW + 60}, SECRET, algorithm="HS512"),
        jwt.encode({"sub": "u1", "aud": "elsewhere", "iat": NOW, "exp": NOW + 60}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "u1", "aud": "tandem", "iat": NOW}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "u1", "aud": "tandem", "iat": NOW, "exp": NOW + 60}, "", algorithm="none"),
    ],
)
def test_anything_but_a_valid_token_is_refused(token: object) -> None:
    with pytest.raises(InvalidIdentityToken):
        verify(token, SECRET, now=NOW)


def test_an_expired_token_is_refused() -> None:
    token = issue(SECRET, "u1", now=NOW, ttl_s=60)
    verify(token, SECRET, now=NOW + 59)
    with pytest.raises(InvalidIdentityToken):
        verify(token, SECRET, now=NOW + 60)
    with pytest.raises(InvalidIdentityToken):
        verify(issue(SECRET, "u1", ttl_s=-1), SECRET)  # the wall clock, too


def test_no_secret_means_no_identity() -> None:
    with pytest.raises(InvalidIdentityToken):
        verify(issue(SECRET, "u1", now=NOW), None, now=NOW)


def test_the_secret_is_generated_once_private_and_shared(tmp_path) -> None:
    first = identity_secret(tmp_path, env={})
    assert first and identity_secret(tmp_path, env={}) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "identity_secret").st_mode)
    assert mode == 0o600
    assert identity_secret(tmp_path, env={"TANDEM_IDENTITY_SECRET": "from-env"}) == "from-env"
