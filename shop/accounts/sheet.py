"""One tap from a link (issue 25 item 4): an action a visitor who is not signed in taps
(join a group, help cut a bargain, claim a coupon, buy now) answers with the phone
sign-in, then lands back on the same action.

- With htmx the answer is the sign-in sheet, swapped in place at the end of the page
  (accounts/_phone_sheet.html); without JavaScript a redirect to the plain /signin/phone
  page. Both carry `next`: the page of the action (and its anchor). A "Sign in to ..."
  link (accounts/_sheet_link.html) opens the same sheet: /signin/phone answers htmx with it.
- What the visitor had chosen (the group's option...) is kept in their session under
  INTENT_KEY, which survives the new session started at sign-in (and goes at sign-out).
  The page reads it back once they are signed in and shows the action ready to confirm:
  nothing is done by the GET that lands there, and every value is checked again by the
  page that uses it (it came from a form anyone can post).
- The referral binding of the link the visitor came through needs nothing here: the
  share link's cookie binds the account at sign-up or sign-in (shop.referrals.links)."""

from __future__ import annotations

from flask import redirect, session, url_for
from flask_login import current_user

from shop.accounts.forms import PhoneForm
from shop.extensions import htmx
from shop.web import SESSION_KEYS_KEPT_AT_SIGNIN, render, safe_next_url

INTENT_KEY = "intent"
SESSION_KEYS_KEPT_AT_SIGNIN.add(INTENT_KEY)


def sign_in_first(next_url: str, action: str, lead: str, **values: int):
    """Remember `action` on the page of `next_url` with the visitor's `values` (plain
    ints), and answer with the sign-in sheet (htmx) or the plain sign-in page."""
    next_url = safe_next_url(next_url) or url_for("home.index")
    session[INTENT_KEY] = {"action": action, "page": next_url.split("#", 1)[0].split("?", 1)[0],
                           "values": {k: int(v) for k, v in values.items()}}
    if wants_sheet():
        return sheet_for(next_url, lead)
    return redirect(url_for("accounts.signin_phone", next=next_url), 303)


def wants_sheet() -> bool:
    """An htmx request that is not a boosted navigation: its answer can be the sheet."""
    return bool(htmx) and not htmx.boosted


def sheet_for(next_url: str, lead: str | None = None):
    """The sign-in sheet, added at the end of the page (whatever element asked)."""
    response = render("accounts/_phone_sheet.html", form=PhoneForm(formdata=None, next=next_url),
                      code_form=None, lead=lead)
    response.headers["HX-Retarget"] = "body"
    response.headers["HX-Reswap"] = "beforeend"
    return response


def intended(action: str, page: str) -> dict[str, int] | None:
    """The values a signed-in visitor chose for `action` on `page` before signing in, or
    None. Read, not taken: a reload shows the same choice; the next intent replaces it
    and signing out forgets it. The caller checks every value before using it."""
    intent = session.get(INTENT_KEY)
    if (not current_user.is_authenticated or not isinstance(intent, dict)
            or intent.get("action") != action or intent.get("page") != page):
        return None
    values = intent.get("values")
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, int)}
