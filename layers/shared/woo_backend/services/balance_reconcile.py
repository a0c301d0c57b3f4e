"""Reconciliation: does Topomer show each recently active user the balance this service expects?

Topomer is the balance's owner and others may move it (a credit, a refund, a person). Each run compares
Topomer's balance of every user active since the last run with the one this service expects after its own
captures, records a difference once per user and run (``DRIFT#<run>``, with a metric) and takes Topomer's
balance as the new expectation. A user whose capture is under way is looked at again by the next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from woo_backend.clock import Clock, iso
from woo_backend.domain.balance_rules import drift
from woo_backend.errors import UpstreamError, UpstreamNotFound
from woo_backend.observability import logger, metrics
from woo_backend.services.balance_ports import LEASE_TTL, HoldRecords, Leases, TopomerApi
from woo_backend.services.order_poll import SyncCursorStore

RECONCILE_CURSOR = "RECONCILE"
RECONCILE_OVERLAP = timedelta(minutes=1)


class Reconciliation:
    def __init__(
        self, holds: HoldRecords, leases: Leases, cursors: SyncCursorStore, topomer: TopomerApi, clock: Clock
    ) -> None:
        self.holds = holds
        self.leases = leases
        self.cursors = cursors
        self.topomer = topomer
        self.clock = clock

    def run(self, run_id: str) -> int:
        """Compare Topomer's balance of each recently active user with the one expected; count drifts."""
        now = self.clock()
        cursor = self.cursors.get(RECONCILE_CURSOR) or ""
        since = iso(datetime.fromisoformat(cursor) - RECONCILE_OVERLAP) if cursor else ""
        drifts = 0
        newest, skipped = cursor, False
        for user_id, last_activity in self.holds.users_active_since(since):
            owner = f"reconcile-{run_id}"
            if not self.leases.acquire_lease(user_id, owner, now, LEASE_TTL):
                skipped = True  # a capture is moving this balance right now: the next run looks again
                continue
            try:
                holds, token = self.holds.get_holds(user_id), self.holds.user_token(user_id)
                if holds is None or token is None:
                    continue
                try:
                    actual = self.topomer.get_user_by_token(token).balance
                except UpstreamNotFound as exc:
                    # Topomer refuses the user's last token: no later run can read it either, so the user is
                    # reported and passed, not left to hold the cursor back for good.
                    logger.warning(
                        "reconciliation cannot read a user: Topomer refuses its token",
                        extra={"user_id": user_id, "code": exc.code},
                    )
                    newest = max(newest, last_activity)
                    continue
                except UpstreamError as exc:
                    logger.warning("reconciliation skipped a user", extra={"user_id": user_id, "code": exc.code})
                    skipped = True
                    continue
                difference = drift(holds.expected_balance, actual)
                if difference != 0 and self.holds.record_drift(user_id, run_id, holds.expected_balance, actual, now):
                    drifts += 1
                    metrics.add_metric(name="BalanceDrift", unit="Count", value=1)
                    logger.warning(
                        "Topomer balance differs from the expected one",
                        extra={"user_id": user_id, "expected": str(holds.expected_balance), "actual": str(actual)},
                    )
                newest = max(newest, last_activity)
            finally:
                self.leases.release_lease(user_id, owner)
        if newest and newest != cursor and not skipped:
            self.cursors.advance(RECONCILE_CURSOR, newest)
        return drifts
