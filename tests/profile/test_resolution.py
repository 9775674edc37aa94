"""Identity resolution on hand-built cases."""

from __future__ import annotations

from pathlib import Path

from tests.profile.helpers import account, build_store, conversation, crm, mkt


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"


def test_same_person_with_email_case_and_phone_formats_is_merged(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[crm(1, "C2000001", "Jonathan", "Price", "Jon.Price@Example.com", "07700 900201")],
        mkt_contact=[mkt(1, "JON.PRICE@EXAMPLE.COM", None)],
        com_account=[account(1, "jon.price@example.com ", "+44 (0)7700 900 201", "Jon Price")],
        cc_conversation=[conversation(1, "whatsapp", "whatsapp:+447700900201", phone="+447700900201", name="Jonny")],
    )
    assert len({links[("crm", 1)], links[("marketing", 1)], links[("commerce", 1)], links[("contact_centre", 1)]}) == 1


def test_gmail_dots_and_tags_are_the_same_mailbox(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[crm(1, "C2000001", "Hannah", "Lee", "Hannah.Lee@GMail.com")],
        com_account=[account(1, "hannahlee+shop@gmail.com", None, "Hanna Lee")],
    )
    assert links[("crm", 1)] == links[("commerce", 1)]


def test_duplicate_crm_entries_with_nickname_and_old_address_are_merged(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[
            crm(1, "C2000001", "William", "Ashby", "w.ashby@example.org", "07700 900301", city="York"),
            crm(2, "C2000002", "Bill", "Ashby", None, "+447700900301", city="Hull", line="9 Old Road"),
        ],
    )
    assert links[("crm", 1)] == links[("crm", 2)]


def test_people_sharing_a_household_address_are_not_merged(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[
            crm(1, "C2000001", "Frank", "Smith", "frank@example.org", "07700 900106", line="42 Victoria Road", household="HH1"),
            crm(2, "C2000002", "Grace", "Smith", "grace@example.org", "07700 900107", line="42 Victoria Road", household="HH1"),
        ],
    )
    assert links[("crm", 1)] != links[("crm", 2)]


def test_family_email_does_not_merge_two_people_nor_the_unnamed_newsletter_record(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[
            crm(1, "C2000001", "Frank", "Smith", "thesmiths@example.org", "07700 900106"),
            crm(2, "C2000002", "Grace", "Smith", "TheSmiths@example.org", "07700 900107"),
        ],
        mkt_contact=[mkt(1, "thesmiths@example.org", None)],
        com_account=[account(1, "thesmiths@example.org", "07700900107", "Grace Smith")],
    )
    frank, grace = links[("crm", 1)], links[("crm", 2)]
    assert frank != grace
    assert links[("commerce", 1)] == grace  # her shop account: same e-mail *and* her phone and name
    assert links[("marketing", 1)] not in (frank, grace)  # nobody can tell whose newsletter it is


def test_unnamed_record_joins_when_the_email_is_not_shared(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[crm(1, "C2000001", "Ada", "Byron", "ada@example.org")],
        mkt_contact=[mkt(1, "Ada@Example.org", None)],
    )
    assert links[("crm", 1)] == links[("marketing", 1)]


def test_conflicting_names_on_a_phone_keep_people_apart(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[crm(1, "C2000001", "Peter", "Quill", None, "07700 900401")],
        cc_conversation=[conversation(1, "phone", "phone:+447700900401", phone="+447700900401", name="Margaret Okoro")],
    )
    assert links[("crm", 1)] != links[("contact_centre", 1)]


def test_customer_number_links_unconditionally_and_messenger_id_links_conversations(tmp_path: Path) -> None:
    links = build_store(
        _url(tmp_path),
        crm_contact=[crm(1, "C2000001", "Rosa", "Diaz", "rosa@example.org")],
        com_account=[account(1, "rd1985@example.net", None, "R Diaz", "c2000001")],
        cc_conversation=[
            conversation(1, "messenger", "messenger:1234567890", email="rosa@example.org", name="Rosa Diaz"),
            conversation(2, "messenger", "messenger:1234567890", name="Rosa D"),
        ],
    )
    assert len({links[("crm", 1)], links[("commerce", 1)], links[("contact_centre", 1)], links[("contact_centre", 2)]}) == 1


def test_customer_ids_are_stable_across_runs(tmp_path: Path) -> None:
    rows = dict(crm_contact=[crm(1, "C2000001", "Ada", "Byron", "ada@example.org")], mkt_contact=[mkt(1, "ada@example.org")])
    first = build_store(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", **rows)
    second = build_store(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}", **rows)
    assert first == second
