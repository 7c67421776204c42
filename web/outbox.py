"""One-time password links go out through the notifications service, which emails them (over SMTP,
or into its local mail when no SMTP server is configured; the development page /dev/outbox shows
that local mail). The web calls it as the system: the link is in no event, only in the email."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from urllib.parse import quote

import requests

from services.eventkit.auth import TokenSigner, system_principal

from .accounts import INVITE_TTL, RESET_TTL, SET

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0
TOKEN_TTL_S = 60


class NotSent(Exception):
    """The notifications service did not take the message."""


@dataclasses.dataclass(frozen=True)
class Message:
    id: str
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime


class Outbox:
    def __init__(self, notifications_url: str, signer: TokenSigner) -> None:
        self.url = notifications_url.rstrip("/")
        self.signer = signer

    def _headers(self) -> dict[str, str]:
        token = self.signer.mint(system_principal(), ttl_seconds=TOKEN_TTL_S)
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def send_link(
        self,
        person_id: str,
        email: str,
        url: str,
        purpose: str,
        name: str = "",
        institution_id: str | None = None,
    ) -> None:
        """Queue the person's set-password (`set`) or reset link for email; raises NotSent.
        `name` and `institution_id` let the mail greet someone notifications has not heard of."""
        ttl = INVITE_TTL if purpose == SET else RESET_TTL
        body = {
            "kind": purpose,
            "url": url,
            "email": email,
            "name": name,
            "institution_id": institution_id,
            "valid_hours": int(ttl.total_seconds() // 3600),
        }
        try:
            response = requests.post(
                f"{self.url}/api/people/{quote(person_id, safe='')}/account-links",
                json=body,
                headers=self._headers(),
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise NotSent(f"notifications did not answer: {exc}") from exc
        if response.status_code != 202:
            raise NotSent(f"notifications answered HTTP {response.status_code}")

    def messages(self, limit: int = 50) -> list[Message] | None:
        """The notifications service's local mail, newest first; None if it does not answer."""
        try:
            response = requests.get(
                f"{self.url}/api/local-mail", headers=self._headers(), timeout=TIMEOUT_S
            )
            response.raise_for_status()
            rows = response.json()
            return [
                Message(
                    id=str(row["id"]),
                    recipient=str(row["to_address"]),
                    subject=str(row["subject"]),
                    body=str(row["text_body"]),
                    created_at=dt.datetime.fromisoformat(str(row["kept_at"])),
                )
                for row in rows[:limit]
            ]
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            log.warning("the local mail of notifications could not be read: %s", exc)
            return None
