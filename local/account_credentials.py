"""``python -m local.account_credentials <UID> [blog] [ttl_seconds]``: a signed account request body
for the local runtime (or any secret in ``ACCOUNT_SIGNING_SECRET``), printed as JSON."""

from __future__ import annotations

import json
import os
import sys

from local.run import LOCAL_DEFAULTS
from woo_backend.auth import mint_account_credentials


def main(argv: list[str]) -> None:
    if not argv or not argv[0].isdigit():
        raise SystemExit("usage: python -m local.account_credentials <UID> [blog] [ttl_seconds]")
    blog = argv[1] if len(argv) > 1 else "1"
    ttl = int(argv[2]) if len(argv) > 2 else 3600
    secret = os.environ.get("ACCOUNT_SIGNING_SECRET") or LOCAL_DEFAULTS["ACCOUNT_SIGNING_SECRET"]
    print(json.dumps(mint_account_credentials(argv[0], blog, secret, ttl)))


if __name__ == "__main__":
    main(sys.argv[1:])
