"""A digest: one person's daily or weekly mail collecting the notices queued for it."""

from __future__ import annotations

from services.eventkit.aggregate import Aggregate, DomainError

from .messages import Rendered
from .notification import DIGEST, derived_id


def digest_id_for(recipient_id: str, channel: str, notification_ids: list[str]) -> str:
    """Derived from what it collects. Daily digests keep the ids they always had; weekly ones
    differ by their channel."""
    prefix = "digest" if channel == DIGEST else f"digest/{channel}"
    return derived_id(f"{prefix}/{recipient_id}/{'/'.join(notification_ids)}")


class Digest(Aggregate):
    stream_prefix = "digest"

    def send(
        self,
        recipient_id: str,
        channel: str,
        notification_ids: list[str],
        transport: str,
        to_address: str,
        rendered: Rendered,
    ) -> None:
        if self.exists:
            raise DomainError("This digest has been sent already.")
        self.record(
            "DigestSent",
            digest_id=self.id,
            recipient_id=recipient_id,
            channel=channel,
            notification_ids=notification_ids,
            transport=transport,
            to_address=to_address,
            subject=rendered.subject,
            body=rendered.text,
            html=rendered.html,
        )
