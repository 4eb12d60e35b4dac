"""Mobile numbers as people type them, parsed with `phonenumbers`: one reading for the
numbers a sign-in code is texted to (shop.accounts.phone) and the address book's
(shop.orders.addresses).

`phonenumbers.parse` is lenient: it skips letters and punctuation it does not expect
("13800138000x"), reads "ext. 5" as an extension, and is_valid_number() accepts
landlines. A number that can receive a text is refused here unless it is typed with
digits and the usual separators only, every digit typed is part of it, it has no
extension, and its type is a mobile's."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

TYPED = re.compile(r"^\+?[0-9 ().-]+$")  # a leading +, digits, spaces ( ) . -
TEXTABLE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def parse_mobile(raw: str | None, region: str = "CN") -> PhoneNumber | None:
    """The mobile number typed in `raw` (a number without + is `region`'s; full-width
    digits are read as digits), or None when it is not one."""
    typed = unicodedata.normalize("NFKC", raw or "").strip()
    if not TYPED.match(typed):
        return None
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return None
    digits = re.sub(r"\D", "", typed)
    if (number.extension or not digits.endswith(phonenumbers.national_significant_number(number))
            or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in TEXTABLE):
        return None
    return number
