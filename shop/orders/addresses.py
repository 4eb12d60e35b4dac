"""The address book: a shopper's addresses, one of them the default.

- The province, city and district are picked from China's divisions (shop.divisions):
  each lies in the one before, or the address is refused (AddressError naming the
  field) and nothing changes. Their codes are kept, and their names for the label.
- The phone is a mainland mobile number (parsed with `phonenumbers`, kept as its 11
  digits); the postcode, if given, is 6 digits.
- Once a shopper has an address, exactly one is the default: the first saved becomes
  it, set_default() moves it, deleting the default passes it to the most recently used
  of the others. Changes lock the shopper's addresses (lowest id first) so two parallel
  "make default" end with one default; the partial unique index uq_addresses_default
  refuses a second in any case.
- Every look-up by id is the owner's: another shopper's address is None (a 404).
- A book holds no two identical addresses: saving one the book has (at /me/addresses or
  typed at an order) reuses it.

Services flush, never commit."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop import divisions
from shop.db import db, utcnow
from shop.phones import parse_mobile
from shop.orders.models import Address

POSTCODE = re.compile(r"^\d{6}$")


class AddressError(ValueError):
    """`message` about the form field `field`, if any; `errors` holds every field's
    message when several are wrong at once (checked()), the first one being `field`'s."""

    def __init__(self, message: str, field: str | None = None,
                 errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field  # the form field it is about, if any
        self.errors = errors or ({field: message} if field else {})


def normalise_mobile(raw: str | None) -> str:
    """'138 0013 8000', '+86 138-0013-8000', '１３８００１３８０００' -> '13800138000': a mainland
    mobile number (shop.phones: no landline, extension or stray characters), or AddressError."""
    number = parse_mobile(raw, "CN")
    if number is None or number.country_code != 86:
        raise AddressError(_("Enter an 11-digit mobile number."), "phone")
    return phonenumbers.national_significant_number(number)


def normalise_postcode(raw: str | None) -> str | None:
    """A 6-digit postcode, or None when none was given; AddressError otherwise."""
    typed = unicodedata.normalize("NFKC", raw or "").strip()
    if not typed:
        return None
    if not POSTCODE.match(typed):
        raise AddressError(_("A postcode is 6 digits."), "postcode")
    return typed


def book(user_id: int) -> list[Address]:
    """The shopper's addresses: the default first, then the most recently used."""
    return list(db.session.scalars(select(Address).where(Address.user_id == user_id).order_by(
        Address.is_default.desc(), Address.updated_at.desc(), Address.id.desc())))


def default_address(user_id: int) -> Address | None:
    return next(iter(book(user_id)), None)


def address_of(user_id: int, address_id: int) -> Address | None:
    """The shopper's own address by id (None for another's)."""
    return db.session.scalar(select(Address).where(Address.id == address_id,
                                                   Address.user_id == user_id))


def _lock(user_id: int) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user_id)
                                   .order_by(Address.id).with_for_update()))


def checked(*, name: str, phone: str, province: str, city: str, district: str, detail: str,
            postcode: str | None = None) -> dict:
    """The columns of an address as typed and picked (codes), checked: AddressError
    naming every field that is wrong (the divisions: the first of the three)."""
    name, detail = (name or "").strip(), (detail or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Who receives it?")
    try:
        phone = normalise_mobile(phone)
    except AddressError as exc:
        errors.update(exc.errors)
    try:
        p, c, d = divisions.check(province, city, district)
    except divisions.DivisionError as exc:
        errors[exc.field] = str(exc)
    if not detail:
        errors["detail"] = _("Enter the street and number.")
    try:
        postcode = normalise_postcode(postcode)
    except AddressError as exc:
        errors.update(exc.errors)
    if errors:
        field, message = next(iter(errors.items()))
        raise AddressError(message, field, errors)
    return {"name": name, "phone": phone, "province_code": p.code, "province": p.name,
            "city_code": c.code, "city": c.name, "district_code": d.code, "district": d.name,
            "detail": detail, "postcode": postcode}


# What makes two addresses of a book the same (the names of the divisions follow their codes)
SAME = ("name", "phone", "province_code", "city_code", "district_code", "detail", "postcode")


def save(user_id: int, address: Address | None = None, *, make_default: bool = False,
         **fields) -> Address:
    """Add an address to the shopper's book (address None) or change one of theirs; the
    fields as checked() takes them. The first address is the default whatever was asked.
    An address identical to another of the book (SAME) is not kept twice: that one is
    reused (it counts as just used, and becomes the default if asked, or if the one
    edited into it was the default), and the one edited into it is deleted."""
    values = checked(**fields)
    rows = _lock(user_id)
    if address is not None:
        _own(user_id, address)
    same = next((row for row in rows if row is not address
                 and all(getattr(row, key) == values[key] for key in SAME)), None)
    if same is not None:
        if address is not None:
            make_default = make_default or address.is_default
            db.session.delete(address)
        address = same
    elif address is None:
        address = Address(user_id=user_id, is_default=False)
        db.session.add(address)
    for key, value in values.items():
        setattr(address, key, value)
    address.updated_at = utcnow()  # most recently used comes next after the default
    db.session.flush()
    if make_default:
        _make_default(user_id, address)
    elif not any(row.is_default for row in rows if row.id != address.id):
        try:
            _make_default(user_id, address)
        except AddressError:
            pass  # a first address saved in parallel became the default: this one is not
    return address


def for_order(user_id: int, **fields) -> Address:
    """An address typed at an order: added to the book, or the identical one of the book
    reused (save())."""
    return save(user_id, **fields)


def _own(user_id: int, address: Address) -> None:
    if address.user_id != user_id:
        raise AddressError(_("This address is not in your address book."))


def set_default(user_id: int, address: Address) -> None:
    _own(user_id, address)
    _lock(user_id)
    _make_default(user_id, address)


def _make_default(user_id: int, address: Address) -> None:
    """Under the shopper's lock: `address` becomes the only default."""
    try:
        with db.session.begin_nested():
            db.session.execute(update(Address).where(
                Address.user_id == user_id, Address.is_default.is_(True), Address.id != address.id)
                .values(is_default=False).execution_options(synchronize_session="fetch"))
            db.session.execute(update(Address).where(Address.id == address.id)
                               .values(is_default=True).execution_options(synchronize_session="fetch"))
    except IntegrityError:  # a first address saved in parallel (no row to lock yet) became it
        raise AddressError(_("Your address book has just changed; reload and try again.")) from None
    db.session.refresh(address)


def delete(user_id: int, address: Address) -> None:
    """Remove one of the shopper's addresses (orders keep their own copy); if it was the
    default, the most recently used of the others becomes it."""
    _own(user_id, address)
    rows = _lock(user_id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        others = sorted((row for row in rows if row.id != address.id),
                        key=lambda row: (row.updated_at, row.id), reverse=True)
        if others:
            _make_default(user_id, others[0])

