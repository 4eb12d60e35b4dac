"""Customers in the backoffice: the list, one customer's page, tags, disabling an account,
and roles. Services flush, never commit (the request edge commits).

Queries per page do not grow with the rows: the list is a count, one query for the page's
accounts joined to their one-row-per-account facts (member level, points and wallet
balances, where they came from, who referred them), one GROUP BY for the page's orders
and one for its tags. A customer's page is a fixed set of queries, each bounded (the
latest RECENT rows of each ledger).

Roles: one function, set_roles, holds every rule (see there). Changing a role does not
end the account's sessions (session_version stays): every request loads the account
from the database (shop.create_app's user loader) and roles_required reads that row's
role, so a demoted admin is refused the backoffice from their very next request while
the rest of their shopping (cart, orders) goes on. Disabling an account is what ends
every session (shop.accounts.services.set_active).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from shop.accounts import services as accounts
from shop.accounts.models import ROLES, User
from shop.analytics.models import Acquisition
from shop.audit.models import AuditEntry
from shop.bargains.models import Bargain, BargainCampaign
from shop.catalog.models import Product
from shop.customers.models import TAG_LENGTH, CustomerTag
from shop.db import RowsPage, db
from shop.groups.models import Group, GroupCampaign, GroupMember
from shop.members import services as members
from shop.members.models import Member, MemberLevel
from shop.orders.models import PAID_STATUSES, Order
from shop.points.models import PointsAccount, PointsEntry
from shop.signals import account_closing
from shop.promotions.models import UserCoupon
from shop.referrals.models import Binding, CommissionEntry
from shop.stores.models import Store, StoreStaff
from shop.wallet.models import Wallet, WalletEntry

PER_PAGE = 30
MAX_PAGES = 10_000
RECENT = 20  # rows of each ledger, order list and history on a customer's page
MAX_TAGS = 20  # per customer


class CustomerError(ValueError):
    """A refusal with a message for the admin; `field` names the form field it is about
    (None: the whole form), `status` the HTTP status of the page that shows it."""

    def __init__(self, message: str, field: str | None = None, status: int = 409):
        super().__init__(message)
        self.field = field
        self.status = status


# --- the list -------------------------------------------------------------------------------


@dataclass
class CustomerRow:
    user: User
    level: str | None
    points: int
    wallet_minor: int
    wallet_currency: str | None
    source: str | None
    referrer_id: int | None
    referrer_name: str | None
    orders: int = 0
    spend_minor: int = 0  # orders paid and not refunded in full (PAID_STATUSES), their totals
    tags: list[str] = field(default_factory=list)


def _conditions(q: str, role: str, tag: str) -> list:
    conditions = []
    q = q.strip()
    if q:
        lowered = q.lower()
        conditions.append(or_(func.lower(User.nickname).contains(lowered, autoescape=True),
                              func.lower(User.email).contains(lowered, autoescape=True),
                              User.phone.contains(q, autoescape=True),
                              User.signin_phone.contains(q, autoescape=True)))
    if role:
        conditions.append(User.role == role)
    if tag.strip():
        conditions.append(select(CustomerTag.id).where(
            CustomerTag.user_id == User.id, CustomerTag.name == tag.strip()).exists())
    return conditions


def _rows(conditions: list, *, limit: int | None = None, offset: int = 0) -> list[CustomerRow]:
    """The accounts matching `conditions`, newest first, as the list shows them: one query
    for the accounts with their one-row-per-account facts, one for their orders, one for
    their tags."""
    referrer = aliased(User)
    query = (
        select(User, MemberLevel.name, PointsAccount.balance, Wallet.balance_minor,
               Wallet.currency, Acquisition.source, Binding.referrer_id, referrer.nickname)
        .outerjoin(Member, Member.user_id == User.id)
        .outerjoin(MemberLevel, MemberLevel.id == func.coalesce(Member.level_id,
                                                                members.starting_level_id()))
        .outerjoin(PointsAccount, PointsAccount.user_id == User.id)
        .outerjoin(Wallet, Wallet.user_id == User.id)
        .outerjoin(Acquisition, Acquisition.user_id == User.id)
        .outerjoin(Binding, Binding.user_id == User.id)
        .outerjoin(referrer, referrer.id == Binding.referrer_id)
        .where(*conditions).order_by(User.id.desc()))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    items = [CustomerRow(user=user, level=level, points=points or 0, wallet_minor=wallet or 0,
                         wallet_currency=currency, source=source, referrer_id=referrer_id,
                         referrer_name=referrer_name)
             for user, level, points, wallet, currency, source, referrer_id, referrer_name
             in db.session.execute(query)]
    by_id = {row.user.id: row for row in items}
    if by_id:
        for user_id, count, spend in db.session.execute(
                select(Order.user_id, func.count(Order.id),
                       func.coalesce(func.sum(case((Order.status.in_(sorted(PAID_STATUSES)),
                                                    Order.total_minor), else_=0)), 0))
                .where(Order.user_id.in_(list(by_id))).group_by(Order.user_id)):
            by_id[user_id].orders, by_id[user_id].spend_minor = count, int(spend)
        for user_id, name in db.session.execute(
                select(CustomerTag.user_id, CustomerTag.name)
                .where(CustomerTag.user_id.in_(list(by_id))).order_by(CustomerTag.name)):
            by_id[user_id].tags.append(name)
    return items


def customer_page(q: str = "", role: str = "", tag: str = "", page: int = 1) -> RowsPage | None:
    """Accounts matching the search (part of the nickname, email or phone), the role and
    the tag, newest first, PER_PAGE a page; None when `page` is past the last page. Four
    queries whatever the page holds."""
    conditions = _conditions(q, role, tag)
    total = db.session.scalar(select(func.count(User.id)).where(*conditions))
    result = RowsPage([], page, PER_PAGE, total)
    if page > result.pages:
        return None
    result.items = _rows(conditions, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return result


def tag_names() -> list[str]:
    """Every tag in use, for the list's tag filter."""
    return list(db.session.scalars(select(CustomerTag.name).distinct()
                                   .order_by(CustomerTag.name).limit(500)))


# --- one customer ---------------------------------------------------------------------------


@dataclass
class CustomerDetail:
    row: CustomerRow
    orders: list
    wallet_entries: list
    points_entries: list
    commission_entries: list
    groups: list  # (GroupMember, Group, product title)
    bargains: list  # (Bargain, product title)
    coupons: list  # UserCoupon (with its coupon)
    referrer: User | None
    referred: list  # (User, [Users they referred]): two levels down
    audit: list  # (AuditEntry, actor email, actor nickname): shop.audit.phrases.describe's rows
    stores: list  # the stores they work at (store staff)


def audit_targets(user_id: int) -> list[str]:
    """The audit entries' targets that name this account: the routes whose only URL
    argument is the account ("user_id=4": this backoffice, the distributors' decisions,
    the editors' publishing right) and the store-staff routes ("store_id=2, user_id=4")."""
    store_ids = db.session.scalars(select(Store.id).order_by(Store.id))
    return [f"user_id={user_id}"] + [f"store_id={s}, user_id={user_id}" for s in store_ids]


def audit_of(user_id: int, limit: int = RECENT) -> list:
    """The latest backoffice actions done to this account, with each actor's email and
    nickname (the rows shop.audit.phrases.describe reads as sentences).

    Found by the entry's target, which the audit log writes from the URL of the action
    (shop.audit.services.add_entry): an equality (IN) on the indexed (target, created_at),
    newest first, so the cost does not grow with the log. An action that names the
    account only in its form (adding it to a store by email from the store's page, a
    wallet adjustment) targets something else; the audit log's own filters (who, action,
    table changed) find those."""
    return list(db.session.execute(
        select(AuditEntry, User.email, User.nickname).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.target.in_(audit_targets(user_id)))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)))


def customer_detail(user_id: int) -> CustomerDetail | None:
    page_row = _one_row(user_id)
    if page_row is None:
        return None
    user = page_row.user
    recent = lambda query: list(db.session.scalars(query.limit(RECENT)))  # noqa: E731
    referred_first = list(db.session.scalars(
        select(User).join(Binding, Binding.user_id == User.id)
        .where(Binding.referrer_id == user.id).order_by(User.id).limit(100)))
    second: dict[int, list[User]] = {u.id: [] for u in referred_first}
    if second:
        for binding_referrer, person in db.session.execute(
                select(Binding.referrer_id, User).join(User, User.id == Binding.user_id)
                .where(Binding.referrer_id.in_(list(second))).order_by(User.id).limit(500)):
            second[binding_referrer].append(person)
    return CustomerDetail(
        row=page_row,
        orders=recent(select(Order).where(Order.user_id == user.id)
                      .order_by(Order.created_at.desc(), Order.id.desc())),
        wallet_entries=recent(select(WalletEntry).where(WalletEntry.user_id == user.id)
                              .order_by(WalletEntry.id.desc())),
        points_entries=recent(select(PointsEntry).where(PointsEntry.user_id == user.id)
                              .order_by(PointsEntry.id.desc())),
        commission_entries=recent(select(CommissionEntry).where(CommissionEntry.user_id == user.id)
                                  .order_by(CommissionEntry.id.desc())),
        groups=list(db.session.execute(
            select(GroupMember, Group, Product.title)
            .join(Group, Group.id == GroupMember.group_id)
            .join(GroupCampaign, GroupCampaign.id == Group.campaign_id)
            .join(Product, Product.id == GroupCampaign.product_id)
            .where(GroupMember.user_id == user.id)
            .order_by(GroupMember.id.desc()).limit(RECENT))),
        bargains=list(db.session.execute(
            select(Bargain, Product.title)
            .join(BargainCampaign, BargainCampaign.id == Bargain.campaign_id)
            .join(Product, Product.id == BargainCampaign.product_id)
            .where(Bargain.user_id == user.id).order_by(Bargain.id.desc()).limit(RECENT))),
        coupons=recent(select(UserCoupon).where(UserCoupon.user_id == user.id)
                       .order_by(UserCoupon.id.desc())),
        referrer=db.session.get(User, page_row.referrer_id) if page_row.referrer_id else None,
        referred=[(u, second[u.id]) for u in referred_first],
        audit=audit_of(user.id),
        stores=stores_of(user.id),
    )


def _one_row(user_id: int) -> CustomerRow | None:
    """One account as the list shows it (the same queries, on its id)."""
    rows = _rows([User.id == user_id])
    return rows[0] if rows else None


def stores_of(user_id: int) -> list[Store]:
    return list(db.session.scalars(
        select(Store).join(StoreStaff, StoreStaff.store_id == Store.id)
        .where(StoreStaff.user_id == user_id).order_by(Store.name, Store.id)))


# --- tags -----------------------------------------------------------------------------------


def _clean_tag(name: str) -> str:
    """A tag as stored: trimmed, inner runs of spaces as one. Refused: empty, too long
    (the form says so first; this is the rule for every caller)."""
    name = " ".join((name or "").split())
    if not name:
        raise CustomerError(_("Enter a tag."), field="name", status=422)
    if len(name) > TAG_LENGTH:
        raise CustomerError(_("A tag is at most %(n)d characters.", n=TAG_LENGTH),
                            field="name", status=422)
    return name


def add_tag(user: User, name: str) -> CustomerTag:
    """Put a tag on the customer; the same tag twice is refused (the unique key settles
    two admins adding it at once)."""
    name = _clean_tag(name)
    count = db.session.scalar(select(func.count(CustomerTag.id))
                              .where(CustomerTag.user_id == user.id))
    if count >= MAX_TAGS:
        raise CustomerError(_("A customer has at most %(n)d tags.", n=MAX_TAGS), field="name")
    tag = CustomerTag(user_id=user.id, name=name)
    try:
        with db.session.begin_nested():
            db.session.add(tag)
    except IntegrityError:
        raise CustomerError(_("This customer already has the tag “%(name)s”.", name=name),
                            field="name") from None
    return tag


def remove_tag(user: User, name: str) -> None:
    name = " ".join((name or "").split())
    removed = db.session.execute(delete(CustomerTag).where(CustomerTag.user_id == user.id,
                                                          CustomerTag.name == name))
    if removed.rowcount != 1:
        raise CustomerError(_("This customer has no such tag."), status=404)


# --- who may do what ------------------------------------------------------------------------


def _lock_admins(*also: int) -> list[User]:
    """Every admin's row, and the rows of `also`, locked (SELECT ... FOR UPDATE) in id
    order (DESIGN section 4: lowest id first, so two admins acting at once queue rather
    than deadlock) and read afresh: what was committed while this request waited counts.
    SQLite ignores FOR UPDATE; its one writer at a time gives the same order."""
    return list(db.session.scalars(
        select(User).where(or_(User.role == "admin", User.id.in_(also)))
        .order_by(User.id).with_for_update().execution_options(populate_existing=True)))


def _check_actor(actor: User, locked: list[User]) -> None:
    """Only an admin may; the check is made on the locked, fresh rows, so an admin whom
    another admin demoted a moment ago can not go on acting on an older reading."""
    if not any(u.id == actor.id and u.role == "admin" and u.active for u in locked):
        raise CustomerError(_("Only admins may change accounts."), status=403)


def _check_an_admin_stays(user: User, locked: list[User]) -> None:
    """After `user` stops being an active admin, another active admin must remain."""
    others = [u for u in locked if u.role == "admin" and u.active and u.id != user.id]
    if not others:
        raise CustomerError(_("This is the last admin: make another account an admin "
                              "first, so someone can still run the shop."))


def set_account_active(actor: User, user: User, active: bool) -> None:
    """Disable an account (every session of it ends, it can not sign in) or enable it
    again (shop.accounts.services.set_active). An admin can not disable their own account,
    nor the last active admin."""
    locked = _lock_admins(actor.id, user.id)
    _check_actor(actor, locked)
    if not active:
        if user.id == actor.id:
            raise CustomerError(_("You can not disable your own account."))
        if user.role == "admin":
            _check_an_admin_stays(user, locked)
    try:
        accounts.set_active(user, active)
    except accounts.AccountError as exc:  # a closed account
        raise CustomerError(str(exc)) from None


def set_roles(actor: User, user: User, role: str, can_publish: bool,
              store_ids: list[int]) -> User:
    """Set the account's role, an editor's publishing right and a store staff member's
    stores, in one go. The rules:

    - only an admin may (checked on the actor's locked row, not only by the route);
    - the role is one of ROLES; the publishing right is an editor's only (others: off;
      admins always may publish);
    - store staff work at one store at least, every id a store's (else nothing changes);
      any other role works at none (admins verify pickups at every store);
    - the last active admin stays one: every admin's row is locked in id order before
      counting, so two admins demoting each other at once leave one of them.
    """
    locked = _lock_admins(actor.id, user.id)
    _check_actor(actor, locked)
    if role not in ROLES:
        raise CustomerError(_("Choose one of the roles."), field="role", status=422)
    wanted = sorted(set(store_ids or ())) if role == "staff" else []
    if store_ids:
        known = set(db.session.scalars(select(Store.id).where(Store.id.in_(sorted(set(store_ids))))))
        if known != set(store_ids):
            raise CustomerError(_("One of the stores chosen does not exist (any more). "
                                  "Reload the page and choose again."), field="stores", status=422)
    if role == "staff" and not wanted:
        raise CustomerError(_("Choose the stores where this person works."), field="stores",
                            status=422)
    if user.role == "admin" and role != "admin":
        _check_an_admin_stays(user, locked)
    user.role = role
    user.can_publish = bool(can_publish) and role == "editor"
    current = set(db.session.scalars(select(StoreStaff.store_id)
                                     .where(StoreStaff.user_id == user.id)))
    gone = current - set(wanted)
    if gone:
        db.session.execute(delete(StoreStaff).where(StoreStaff.user_id == user.id,
                                                    StoreStaff.store_id.in_(sorted(gone))))
    for store_id in wanted:
        if store_id not in current:
            db.session.add(StoreStaff(store_id=store_id, user_id=user.id))
    db.session.flush()
    return user


@account_closing.connect
def _closing(user, **_kwargs) -> None:
    """The backoffice's tags on a closed account (what staff noted about the person) are
    erased."""
    db.session.execute(delete(CustomerTag).where(CustomerTag.user_id == user.id)
                       .execution_options(synchronize_session=False))
