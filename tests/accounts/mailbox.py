"""The emails in a test's outbox, and the links in them (tests of shop.accounts.email_links)."""

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

EN = {"Accept-Language": "en"}


@dataclass
class Mail:
    to: str
    subject: str
    body: str

    @property
    def link(self) -> str:
        """The path of the link in the mail (the host is SHOP_BASE_URL's)."""
        return re.search(r"https?://[^/\s]+(/\S+)", self.body).group(1)


def mails(app) -> list[Mail]:
    """The emails in the outbox, oldest first."""
    found = []
    for path in sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append(Mail(message["To"], message["Subject"], message.get_content()))
    return found


def ask(client, url: str, address: str, next: str = "", **request):
    """Ask for a link (a sign-in link, a reset, a confirmation) for the address."""
    return client.post_form(url, {"email": address, "next": next}, headers=EN, **request)


def text(response) -> str:
    return response.get_data(as_text=True)
