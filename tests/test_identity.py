"""Identifier normalisation: every form a bot has at hand, and nothing else."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recuerdo.errors import InvalidIdentifier
from recuerdo.identity import canonical_phone, mask, parse_who
from recuerdo.model import IdentifierKind


@pytest.mark.parametrize(
    "who",
    [
        "573003913251",
        "+57 300 391 3251",
        "+57-300-391-3251",
        "0057 300 391 3251",
        "573003913251@s.whatsapp.net",
        "573003913251:17@s.whatsapp.net",
        "573003913251@c.us",
        "phone:+573003913251",
        "(300) 391-3251",
        "\u200e+57 300 391 3251",
    ],
)
def test_every_form_of_one_colombian_number_is_the_same_client(who: str) -> None:
    parsed = parse_who(who)
    assert parsed.primary.kind is IdentifierKind.WA_ID
    assert parsed.primary.value == "573003913251"
    assert parsed.phone == "573003913251"


@pytest.mark.parametrize(
    ("wa_id", "phone"),
    [
        ("5215512345678", "525512345678"),  # Mexico: the old mobile '1'
        ("525512345678", "525512345678"),
        ("551187654321", "5511987654321"),  # Brazil: registered before the ninth digit
        ("5511987654321", "5511987654321"),
        ("541112345678", "5491112345678"),  # Argentina typed without the '9'
        ("5491112345678", "5491112345678"),
    ],
)
def test_national_quirks_link_to_one_e164_number(wa_id: str, phone: str) -> None:
    parsed = parse_who(wa_id)
    assert parsed.primary.value == wa_id  # kept exactly as WhatsApp sent it
    assert parsed.phone == phone


def test_lid_and_bsuid() -> None:
    assert parse_who("123456789012345@lid").primary.kind is IdentifierKind.LID
    assert parse_who("lid:123456789012345").primary.value == "123456789012345"
    assert parse_who("CO.1234567890abc").primary.kind is IdentifierKind.BSUID
    assert parse_who("bsuid:US.13491208655302741918").primary.value == "US.13491208655302741918"
    assert parse_who("123@lid".replace("123", "12345")).phone is None


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hola", "not a number"),
        ("12345", "6 to 15 digits"),
        ("1234567890123456", "6 to 15 digits"),
        ("0573003913251", "6 to 15 digits"),
        ("573003913251@g.us", "group"),
        ("abc@s.whatsapp.net", "JID"),
        ("573003913251@example.com", "unknown WhatsApp server"),
        ("x@lid", "@lid"),
        ("bsuid:nope", "BSUID"),
        ("5" * 300, "over 256"),
    ],
)
def test_anything_else_is_a_clear_invalid_identifier(who: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        parse_who(who)
    assert why in info.value.message
    assert "Accepted:" in info.value.message


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="must be a string"):
        parse_who(573003913251)  # type: ignore[arg-type]


def test_groups_only_when_asked() -> None:
    parsed = parse_who("120363025246125486@g.us", allow_groups=True)
    assert parsed.primary.value == "120363025246125486@g.us"


def test_mask() -> None:
    assert mask("573003913251") == "573*****251"
    assert mask("12345") == "*****"


digits = st.text(alphabet="0123456789", min_size=6, max_size=15).filter(lambda d: d[0] != "0")


@given(digits)
def test_any_plausible_wa_id_is_accepted_as_sent(value: str) -> None:
    parsed = parse_who(value)
    assert parsed.primary.value == value
    assert parse_who(f"{value}@s.whatsapp.net").primary == parsed.primary
    assert parse_who(f"+{value}").primary == parsed.primary


@given(digits)
def test_canonical_phone_is_stable(value: str) -> None:
    phone = canonical_phone(value)
    if phone is not None:
        assert phone.isdigit() and 6 <= len(phone) <= 15
        assert canonical_phone(phone) == phone


@given(digits, st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=6), st.randoms())
def test_separators_do_not_change_an_international_number(
    value: str, seps: list[str], rnd: object
) -> None:
    chars = list(value)
    for sep in seps:
        chars.insert(1 + len(chars) // 2, sep)
    assert parse_who("+" + "".join(chars)).primary.value == value


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_invalid_identifier(text: str) -> None:
    with contextlib.suppress(InvalidIdentifier):
        parse_who(text)
