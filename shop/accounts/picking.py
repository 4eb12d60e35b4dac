"""The accounts' kind of picker (shop.web.picking): customer, any account, shown by
nickname with a masked email and phone. A search finds active accounts only; a chosen
id loads whatever account it names (the form's service says what it accepts). Imported
by shop/accounts/blueprint.py, so every app has it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.accounts.models import User
from shop.web.picking import Choice, Kind, mask_email, mask_phone, register


def describe_customer(user: User) -> Choice:
    detail = " · ".join(part for part in (mask_email(user.email) if user.email else "",
                                          mask_phone(user.phone or user.signin_phone)) if part)
    avatar = (user.avatar_key, user.avatar_widths) if user.avatar_key else None
    return Choice("customer", user.id, user.nickname, detail, avatar=avatar)


CUSTOMER = register(Kind(
    name="customer", label=_l("a customer"), noun=_l("customer"),
    hint=_l("Search by nickname, email or phone"), model=User,
    statement=lambda: select(User),
    columns=lambda: (User.nickname, User.email, User.phone, User.signin_phone),
    where=lambda: (User.active.is_(True),),
    describe=describe_customer))
