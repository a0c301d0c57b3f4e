"""``make credentials UID=1 [BLOG=1] [TTL=3600]``: a signed account request body for the local runtime (or for
any secret in ``ACCOUNT_SIGNING_SECRET``), printed as JSON, ready for curl.

Inside the venv the module also runs as ``python -m local.account_credentials <UID> [blog] [ttl_seconds]``.
Wrong arguments, or a Python without the project's packages, give one line saying what to run instead.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

# The layer, as the venv's tools see it through PYTHONPATH: here too when run without it.
LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "shared")
USAGE = "usage: make credentials UID=<user id> [BLOG=<blog id>] [TTL=<seconds>]"
_WHOLE = re.compile(r"[0-9]+")  # ASCII digits only ("²".isdigit() is true)


def parse(argv: list[str]) -> tuple[str, str, int]:
    """``(uid, blog, ttl_seconds)`` from the arguments; ``SystemExit`` with one line when they are wrong."""
    if not argv:
        raise SystemExit(f"{USAGE}  (UID is missing)")
    if len(argv) > 3:
        raise SystemExit(f"{USAGE}  (too many arguments: {' '.join(argv[3:])})")
    uid, blog, ttl = argv[0], argv[1] if len(argv) > 1 else "1", argv[2] if len(argv) > 2 else "3600"
    for name, value in (("UID", uid), ("BLOG", blog), ("TTL", ttl)):
        if not _WHOLE.fullmatch(value):
            raise SystemExit(f"{USAGE}  ({name} must be a whole number, got {value!r})")
    if int(ttl) == 0:
        raise SystemExit(f"{USAGE}  (TTL must be at least 1 second)")
    return uid, blog, int(ttl)


def main(argv: list[str]) -> None:
    uid, blog, ttl = parse(argv)
    if LAYER not in sys.path:
        sys.path.insert(0, LAYER)
    try:
        from local.run import LOCAL_DEFAULTS
        from woo_backend.auth import mint_account_credentials
    except ModuleNotFoundError as exc:
        # Outside the venv (or without PYTHONPATH=layers/shared): the fix, not a traceback.
        raise SystemExit(
            f"local.account_credentials: module {exc.name!r} not found in this Python: run `make credentials UID={uid}`"
            " from the repository (it uses .venv)"
        ) from None
    secret = os.environ.get("ACCOUNT_SIGNING_SECRET") or LOCAL_DEFAULTS["ACCOUNT_SIGNING_SECRET"]
    print(json.dumps(mint_account_credentials(uid, blog, secret, ttl)))


if __name__ == "__main__":
    main(sys.argv[1:])
