"""Imported by the containers' fork server only (``local.lambdas.PRELOAD``), after the libraries: the AWS SDK's
default session with the DynamoDB and SES models loaded. Each container makes its clients from that session, so
they share its parsed models (about 9 MB of JSON) instead of reading them again at every cold start."""

from __future__ import annotations

import boto3

try:
    boto3.client("dynamodb")
    boto3.client("ses")
except Exception:  # noqa: S110 - no region or credentials here: each container loads its own, as before
    pass
