from __future__ import annotations

import pytest

from bot.profile import InvalidIdentifier
from bot.profile.identifiers import (
    candidates,
    normalise_channel_id,
    normalise_customer_number,
    normalise_email,
    normalise_invoice_id,
    normalise_order_id,
    normalise_phone,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Jo.Bloggs@Example.COM", "jo.bloggs@example.com"),
        ("  jo@example.com ", "jo@example.com"),
        ("Jo.Bloggs+shop@GMail.com", "jobloggs@gmail.com"),
        ("jo.bloggs@googlemail.com", "jobloggs@gmail.com"),
        ("jo.bloggs+x@example.com", "jo.bloggs+x@example.com"),  # only Gmail ignores dots and tags
        ("mailto:jo@example.org", "jo@example.org"),
    ],
)
def test_email_normalisation(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "jo", "jo@", "@example.com", "jo@@example.com", "jo@example", "jo..b@example.com", "j o@example.com", "a" * 65 + "@example.com", "jo@exa_mple.com", "x" * 400])
def test_malformed_emails_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_email(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("07700 900123", "+447700900123"),
        ("07700900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)7700 900 123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("(+44) 7700 900123", "+447700900123"),
        ("020 7946 0958", "+442079460958"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("202-555-0143", "+12025550143"),
        ("1-202-555-0143", "+12025550143"),
        ("(202) 555 0143", "+12025550143"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("tel:+447700900123", "+447700900123"),
    ],
)
def test_phone_normalisation_to_e164(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "07700 9001", "0770090012345678", "+44 0 1234", "abc", "07700-900-12x", "+1 123 555 0143", "+0 123456789", "555-0143", "+"])
def test_malformed_phones_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_phone(raw)


def test_customer_order_invoice_and_channel_formats() -> None:
    assert normalise_customer_number("c 123 4567") == "C1234567"
    assert normalise_order_id("#0012345678") == "12345678"
    assert normalise_order_id(" 4000 000 101 ") == "4000000101"
    assert normalise_invoice_id("inv 1234567") == "INV-1234567"
    assert normalise_channel_id("WhatsApp: 07700 900123") == "whatsapp:+447700900123"
    assert normalise_channel_id("messenger:1234567890") == "messenger:1234567890"
    assert normalise_channel_id("web:5F0C2A8E-3B1D-4C7A-9E2F-0A1B2C3D4E5F") == "web:5f0c2a8e-3b1d-4c7a-9e2f-0a1b2c3d4e5f"
    for bad, func in (
        ("C123456", normalise_customer_number),
        ("1234567", normalise_order_id),
        ("1234567890123", normalise_order_id),
        ("12-34-56-78", normalise_order_id),
        ("INV-12345", normalise_invoice_id),
        ("telegram:123", normalise_channel_id),
        ("messenger:abc", normalise_channel_id),
        ("web:not-a-uuid", normalise_channel_id),
    ):
        with pytest.raises(InvalidIdentifier):
            func(bad)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Amelia.Hart@example.com", [("email", "amelia.hart@example.com")]),
        ("C1000001", [("customer_number", "C1000001")]),
        ("INV-0000001", [("invoice_id", "INV-0000001")]),
        ("#4000000101", [("order_id", "4000000101")]),
        ("+447700900101", [("phone", "+447700900101")]),
        ("4000000101", [("phone", "+14000000101"), ("order_id", "4000000101")][1:]),
        ("07700 900101", [("phone", "+447700900101"), ("order_id", "7700900101")]),
        ("whatsapp:+447700900104", [("channel_id", "whatsapp:+447700900104"), ("phone", "+447700900104")]),
        ("web:5f0c2a8e-3b1d-4c7a-9e2f-0a1b2c3d4e5f", [("channel_id", "web:5f0c2a8e-3b1d-4c7a-9e2f-0a1b2c3d4e5f")]),
    ],
)
def test_kind_detection(raw: str, expected: list[tuple[str, str]]) -> None:
    assert candidates(raw) == expected


@pytest.mark.parametrize("raw", [None, 42, b"bytes", "", "hello there", "x" * 1000, "abc\x00def", "C12", "#12"])
def test_detection_rejects_garbage_with_a_clear_message(raw: object) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        candidates(raw)
    assert str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_kind_is_a_validation_error() -> None:
    with pytest.raises(InvalidIdentifier, match="unknown identifier kind"):
        candidates("jo@example.com", "passport")


def test_error_messages_do_not_echo_personal_data() -> None:
    with pytest.raises(InvalidIdentifier) as info:
        normalise_phone("07700 9001 secret")
    assert "secret" not in str(info.value) and "9001" not in str(info.value)
