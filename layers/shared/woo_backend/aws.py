"""AWS SDK clients: one of each per container, all with the same timeouts and retries.

Endpoints come from the SDK's own ``AWS_ENDPOINT_URL_<SERVICE>`` variables (the local runtime points them at
the embedded moto server), so there is no custom endpoint code.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ses import SESClient

CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=50,
)


@functools.cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def ses_client() -> SESClient:
    return boto3.client("ses", config=CLIENT_CONFIG)
