"""Emails to shoppers (Flask-Mail), sent from jobs after the commit: reactions to the
order signals of shop.signals (paid, shipped), which are sent once the change has
committed. With no MAIL_SERVER (the default run, the tests) nothing leaves the machine:
each message is written to MAIL_OUTBOX as an .eml file and its subject logged."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message, email_dispatched

from shop import jobs, signals
from shop.db import db
from shop.extensions import mail


def _send(to: str, subject: str, template: str, **context) -> None:
    body = render_template(template, **context)
    mail.send(Message(subject=subject, recipients=[to], body=body))


def _order_mail(order_id: int, subject, template: str) -> None:
    from shop.accounts.models import User
    from shop.orders.models import Order

    order = db.session.get(Order, order_id)
    user = db.session.get(User, order.user_id)
    if not user.email:  # an account made by phone that gave no email
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        _send(user.email, subject(order), template, order=order, user=user)


def order_confirmation(order_id: int) -> None:
    """Job: the order is paid."""
    _order_mail(order_id, lambda o: _("Order %(number)s is paid", number=o.number),
                "emails/order_paid.txt")


def order_shipped(order_id: int) -> None:
    """Job: the order has left the warehouse."""
    _order_mail(order_id, lambda o: _("Order %(number)s has shipped", number=o.number),
                "emails/order_shipped.txt")


def _to_outbox(app, message: Message) -> None:
    if not app.extensions["mail"].suppress:
        return
    outbox = Path(app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{message.date:.6f}-{abs(hash(message.msgId)):x}.eml"
    (outbox / name).write_bytes(message.as_bytes())
    app.logger.info("mail to %s: %s (written to %s)", ", ".join(message.recipients),
                    message.subject, outbox / name)


def _on_paid(order_id: int, **extra) -> None:
    jobs.enqueue_now(order_confirmation, order_id)


def _on_shipped(order_id: int, **extra) -> None:
    jobs.enqueue_now(order_shipped, order_id)


def init_notices(app) -> None:
    mail.init_app(app)
    email_dispatched.connect(_to_outbox, sender=app, weak=False)
    signals.order_paid.connect(_on_paid)
    signals.order_shipped.connect(_on_shipped)
