"""Who is this? Normalising the many ways a bot names a customer.

A bot has at hand a phone typed by a person (``"+57 300 391 3251"``), a WhatsApp id
(``"573003913251"``, ``"573003913251@s.whatsapp.net"``, ``"…@c.us"``), a Baileys linked id
(``"12345@lid"``) or one of Meta's business-scoped user ids (``"CO.1234567890"``). All of them are
accepted; :func:`parse_who` turns each into a :class:`Who` that knows which identifiers find the
client and which to store for a new one.

WhatsApp ids are kept exactly as WhatsApp sent them (``wa_id``) and linked to the canonical E.164
number (``phone``) where one exists, because WhatsApp ids are not always valid E.164: Mexican
mobiles arrive as ``521`` + 10 digits, old Brazilian accounts without the ninth digit, Argentine
mobiles as ``549…`` while people type ``+54 11 …``. Rejecting those would silence a whole country.

>>> parse_who("+57 300 391 3251").phone
'573003913251'
>>> parse_who("5215512345678@s.whatsapp.net").phone
'525512345678'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import phonenumbers

from recuerdo.errors import InvalidIdentifier
from recuerdo.model import Identifier, IdentifierKind

ACCEPTED = (
    "a phone number with country code ('573003913251', '+57 300 391 3251'), "
    "a WhatsApp JID ('573003913251@s.whatsapp.net', '…@c.us'), a Baileys id ('123…@lid'), "
    "a business-scoped user id ('CO.123…'), or an explicit 'phone:', 'lid:', 'bsuid:' prefix"
)

_SEPARATORS = re.compile(r"[\s\-().\u00a0\u202f/]")
_DIGITS = re.compile(r"\d{6,15}")
_LID = re.compile(r"\d{5,25}")
# Meta's business-scoped user ids: an ISO country prefix, a dot, then an opaque token.
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9_\-]{1,128}")
_MAX_INPUT = 256


@dataclass(frozen=True, slots=True)
class Who:
    """A parsed client reference: the identifier as given, plus its canonical phone if any."""

    raw: str
    primary: Identifier
    phone: str | None = None
    lookup_keys: tuple[Identifier, ...] = field(init=False, default=())
    """Identifiers that find this client, most specific first (computed once: parses are cached
    and every call of the client's messages reads them)."""

    def __post_init__(self) -> None:
        keys = [self.primary]
        if self.phone is not None:
            phone = Identifier(IdentifierKind.PHONE, self.phone)
            if phone != self.primary:
                keys.append(phone)
        object.__setattr__(self, "lookup_keys", tuple(keys))

    @property
    def masked(self) -> str:
        """A form safe for logs: ``573*****251``."""
        return mask(self.primary.value)


def parse_who(who: str, *, default_region: str = "CO", allow_groups: bool = False) -> Who:
    """Parse any supported client reference; raise :class:`InvalidIdentifier` for anything else.

    >>> parse_who("12345@lid").primary
    Identifier(kind=<IdentifierKind.LID: 'lid'>, value='12345')
    """
    if isinstance(who, str):
        # A bot names the same few thousand clients over and over; phonenumbers is slow.
        return _parse_cached(who, default_region, allow_groups)
    return _parse(who, default_region, allow_groups)


@functools.lru_cache(maxsize=65_536)
def _parse_cached(who: str, default_region: str, allow_groups: bool) -> Who:
    return _parse(who, default_region, allow_groups)


def _parse(who: str, default_region: str, allow_groups: bool) -> Who:
    if not isinstance(who, str):
        raise InvalidIdentifier(
            f"client identifier must be a string, got {type(who).__name__}; accepted: {ACCEPTED}",
            received=repr(who)[:80],
        )
    text = who.strip().replace("\u200e", "").replace("\u200f", "")
    if not text or len(text) > _MAX_INPUT:
        raise _invalid(who, "it is empty" if not text else f"it is over {_MAX_INPUT} characters")

    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in {"phone", "tel", "wa", "lid", "bsuid"}:
        return _parse_prefixed(who, prefix.lower(), rest.strip(), default_region)

    if "@" in text:
        return _parse_jid(who, text, allow_groups)
    if _BSUID.fullmatch(text):
        return Who(who, Identifier(IdentifierKind.BSUID, text))
    return _parse_number(who, text, default_region)


def _parse_prefixed(who: str, prefix: str, rest: str, default_region: str) -> Who:
    if prefix == "lid":
        if not _LID.fullmatch(rest):
            raise _invalid(who, "a lid is 5 to 25 digits")
        return Who(who, Identifier(IdentifierKind.LID, rest))
    if prefix == "bsuid":
        if not _BSUID.fullmatch(rest):
            raise _invalid(who, "a BSUID looks like 'CO.123abc' (country, dot, token)")
        return Who(who, Identifier(IdentifierKind.BSUID, rest))
    return _parse_number(who, rest, default_region)


def _parse_jid(who: str, text: str, allow_groups: bool) -> Who:
    user, _, server = text.partition("@")
    server = server.lower()
    user = user.split(":", 1)[0]  # Baileys device suffix: 573…:12@s.whatsapp.net
    if server in {"s.whatsapp.net", "c.us", "whatsapp.net"}:
        if not _DIGITS.fullmatch(user):
            raise _invalid(who, "the part before '@' of a WhatsApp JID is 6 to 15 digits")
        return Who(who, Identifier(IdentifierKind.WA_ID, user), canonical_phone(user))
    if server == "lid":
        if not _LID.fullmatch(user):
            raise _invalid(who, "the part before '@lid' is 5 to 25 digits")
        return Who(who, Identifier(IdentifierKind.LID, user))
    if server == "g.us":
        if not allow_groups:
            raise _invalid(who, "it is a group chat, and groups are not enabled")
        if not re.fullmatch(r"[\d\-]{6,40}", user):
            raise _invalid(who, "a group id is digits and dashes before '@g.us'")
        return Who(who, Identifier(IdentifierKind.WA_ID, f"{user}@g.us"))
    raise _invalid(who, f"unknown WhatsApp server '@{server}'")


def _parse_number(who: str, text: str, default_region: str) -> Who:
    international = text.startswith("+") or text.startswith("00")
    digits = _SEPARATORS.sub("", text).lstrip("+")
    if digits.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit():
        raise _invalid(who, "it is not a number, a JID, a lid or a BSUID")
    if not international and digits != text.strip():
        # Typed with separators but no country code, e.g. "(300) 391-3251": local to the business.
        try:
            parsed = phonenumbers.parse(text, default_region)
        except phonenumbers.NumberParseException:
            raise _invalid(who, "it cannot be read as a phone number") from None
        if not phonenumbers.is_possible_number(parsed):
            raise _invalid(who, f"it is not a possible phone number in region {default_region}")
        digits = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]
    if not _DIGITS.fullmatch(digits) or digits.startswith("0"):
        raise _invalid(who, "a phone number is 6 to 15 digits with its country code")
    return Who(who, Identifier(IdentifierKind.WA_ID, digits), canonical_phone(digits))


def canonical_phone(digits: str) -> str | None:
    """The E.164 digits for a WhatsApp id, fixing the known national quirks; ``None`` if unknown.

    >>> canonical_phone("5215512345678")   # Mexico: WhatsApp keeps the old mobile '1'
    '525512345678'
    >>> canonical_phone("551187654321")    # Brazil: account from before the ninth digit
    '5511987654321'
    >>> canonical_phone("541112345678")    # Argentina: typed without the mobile '9'
    '5491112345678'
    """
    for candidate in _candidates(digits):
        try:
            number = phonenumbers.parse("+" + candidate, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return candidate
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(number) and phonenumbers.is_possible_number(number):
        return digits
    return None


def _candidates(digits: str) -> list[str]:
    """Forms to try in order: national WhatsApp quirks first, then the digits as given."""
    out: list[str] = []
    if digits.startswith("521") and len(digits) == 13:
        out.append("52" + digits[3:])
    elif digits.startswith("54") and not digits.startswith("549") and len(digits) == 12:
        # Argentine mobiles on WhatsApp carry a 9; a landline with the same digits stays valid
        # below, so this only links the two forms when the '9' form is a real mobile number.
        out.append("549" + digits[2:])
    elif digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        out.append(digits[:4] + "9" + digits[4:])
    out.append(digits)
    return out


def mask(value: str) -> str:
    """Hide the middle of an identifier for logs: ``mask("573003913251") == "573*****251"``."""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:3] + "*****" + value[-3:]  # fixed width: the length is not shown either


def _invalid(who: object, why: str) -> InvalidIdentifier:
    shown = repr(who)[:80]
    return InvalidIdentifier(
        f"invalid client identifier {shown}: {why}. Accepted: {ACCEPTED}", received=shown
    )
