from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import UTCDateTime, db, utcnow

TABLES_LENGTH = 500


def tables_text(changes: list) -> str:
    """The tables a list of changes touched, as ',products,skus,' (each once, in the order
    first touched), so the log filters on one with LIKE '%,name,%' on either backend."""
    names = list(dict.fromkeys(change["table"] for change in changes if change.get("table")))
    text = "," + ",".join(names) + "," if names else ""
    if len(text) > TABLES_LENGTH:  # cut at a name's end, never inside one
        text = text[:text.rindex(",", 0, TABLES_LENGTH) + 1]
    return text


class AuditEntry(db.Model):
    """One backoffice action (a state-changing request to a backoffice route): who, which
    route with what form, how it ended, and the rows it changed (before and after).

    form: the posted fields, CSRF token left out, secrets masked ("***"), values cut to 200
    characters. changes: [{"table", "id", "op": "insert"|"update"|"delete", "before",
    "after"}] (an update names the changed columns only), {"table", "op": "statement",
    "sql"} for a bulk UPDATE/DELETE/INSERT, and a last {"truncated": n} past the cap. A
    refused action (status >= 400) changed nothing, so its changes are []."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_id_created_at", "actor_id", "created_at"),
        Index("ix_audit_entries_endpoint_created_at", "endpoint", "created_at"),
        Index("ix_audit_entries_domain_created_at", "domain", "created_at"),
        # what was done to one thing, newest first: a customer's page (shop.customers)
        # looks up the entries whose target is that account ("user_id=4")
        Index("ix_audit_entries_target_created_at", "target", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))  # the role at the time
    domain: Mapped[str] = mapped_column(String(40))  # the blueprint: "catalog_admin"
    endpoint: Mapped[str] = mapped_column(String(80))  # "catalog_admin.product_form"
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(200), default="")  # "product_id=4"
    status: Mapped[int] = mapped_column()
    form: Mapped[dict] = mapped_column(JSON, default=dict)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    tables: Mapped[str] = mapped_column(String(TABLES_LENGTH), default="")  # tables_text()

    @property
    def refused(self) -> bool:
        return self.status >= 400

    def change_rows(self) -> list[dict]:
        """The changes as the log shows them: per row changed, its columns with the value
        before and after (None: no such value, e.g. before an insert)."""
        rows = []
        for change in self.changes or []:
            if "truncated" in change:
                rows.append({"truncated": change["truncated"]})
                continue
            before, after = change.get("before") or {}, change.get("after") or {}
            columns = list(dict.fromkeys([*before, *after]))
            rows.append({"table": change.get("table", ""), "id": change.get("id"),
                         "op": change.get("op", ""), "sql": change.get("sql"),
                         "columns": [(name, before.get(name), after.get(name)) for name in columns]})
        return rows
