"""Amazon SES adapter: mails to the merchant (moto's SES locally, through the same endpoint variable
the SDK reads, ``AWS_ENDPOINT_URL_SES``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from woo_backend.domain.account.mail import MerchantMail
from woo_backend.errors import UpstreamRejected, UpstreamUnavailable

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


class SesMailer:
    """Sends through the client ``connect`` gives, asked for on each mail (not at cold start: most requests
    never send one); ``woo_backend.aws.ses_client`` makes one per container."""

    def __init__(self, sender: str, recipient: str, connect: Callable[[], SESClient]) -> None:
        self.sender = sender
        self.recipient = recipient
        self.connect = connect

    def send(self, mail: MerchantMail) -> str:
        client = self.connect()
        try:
            answer = client.send_email(
                Source=self.sender,
                Destination={"ToAddresses": [self.recipient]},
                ReplyToAddresses=[mail.reply_to],
                Message={
                    "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
                },
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("Throttling", "ServiceUnavailable", "InternalFailure"):
                raise UpstreamUnavailable("ses", code) from None
            raise UpstreamRejected("ses", code) from None
        except BotoCoreError as error:
            raise UpstreamUnavailable("ses", type(error).__name__) from None
        return answer["MessageId"]
