"""The customer's message as the merchant receives it, and the hourly window a mail counts against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from woo_backend.domain.account.params import SendMailParams


class MerchantMail(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    reply_to: str


def merchant_mail(params: SendMailParams, uid: int, customer_email: str | None) -> MerchantMail:
    """The customer's message as the merchant receives it: who wrote, and their words as plain text
    (HTML from a customer is not rendered in the merchant's mail client)."""
    who = f"Customer #{uid}" + (f" <{customer_email}>" if customer_email else "")
    text = f"{who} wrote from the account page (reply goes to {params.sender}):\n\n{params.content}\n"
    return MerchantMail(subject=f"[Account] {params.topic}", text=text, reply_to=str(params.sender))


def mail_window(now: datetime) -> tuple[str, int]:
    """The hour a mail counts against (``2026112310``) and when its counter may be forgotten."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start.strftime("%Y%m%d%H"), int((start + timedelta(hours=2)).timestamp())
