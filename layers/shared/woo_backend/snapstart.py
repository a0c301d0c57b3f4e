"""SnapStart (template parameter ``SnapStart``): what a snapshot must not carry into the environments restored from it.

Lambda snapshots an HTTP function's published version after its init and restores that memory in every new
environment, so anything unique made at init would be shared by all of them:

- connections: the DynamoDB/SES clients' pools are closed before the snapshot and again after a restore
  (botocore's public ``close()``; the client opens new ones at its next call), and the upstream clients drop
  theirs (``UpstreamClient.reset``; built lazily, they rarely hold one at init anyway);
- random state: ``random`` (the backoff's jitter) is seeded again from ``os.urandom``, or every restored
  environment would retry on the same schedule. ``secrets``, ``uuid4`` and the nonces read ``os.urandom`` at each
  call and need nothing;
- time: nothing time-based is cached at init (the in-memory caches fill at the first request; Powertools' secret
  cache expires by wall-clock time, which a restore moves on).

The hooks come from ``snapshot_restore_py``, which the Lambda Python runtimes (3.12 and later) include; it is not
a dependency of the layer. Where it is absent (the venv, the local runtime) they go to the local registry below,
which ``simulate_restore`` runs in the runtime's order, so the tests exercise the same hooks.
"""

from __future__ import annotations

import random
from collections.abc import Callable

Hook = Callable[[], None]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def _local_before_snapshot(hook: Hook) -> Hook:
    _before_snapshot.append(hook)
    return hook


def _local_after_restore(hook: Hook) -> Hook:
    _after_restore.append(hook)
    return hook


try:
    from snapshot_restore_py import (  # type: ignore[import-not-found,unused-ignore]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # outside Lambda: the local registry stands in for the runtime's
    register_before_snapshot = _local_before_snapshot
    register_after_restore = _local_after_restore


def close_connections() -> None:
    """Close every connection this container holds; each client reconnects at its next call."""
    from woo_backend import aws
    from woo_backend.bootstrap import common

    for sdk_client in (aws.dynamodb_client, aws.ses_client):
        if sdk_client.cache_info().currsize:  # only a client that was made: calling it would make one
            sdk_client().close()
    for upstream in (common.woocommerce, common.topomer):
        if upstream.cache_info().currsize:
            upstream().reset()


def reseed() -> None:
    """A new random state per restored environment (from ``os.urandom``)."""
    random.seed()


def after_restore() -> None:
    reseed()
    close_connections()


_registered = False


def register_hooks() -> None:
    """Register the hooks once per container (every HTTP entry point calls this at its init)."""
    global _registered
    if _registered:
        return
    _registered = True
    register_before_snapshot(close_connections)
    register_after_restore(after_restore)


def simulate_restore() -> None:
    """What Lambda does around a snapshot, for the local registry: the before-snapshot hooks in reverse order of
    registration, then the after-restore hooks in order (the runtime's documented order)."""
    for hook in reversed(_before_snapshot):
        hook()
    for hook in _after_restore:
        hook()
