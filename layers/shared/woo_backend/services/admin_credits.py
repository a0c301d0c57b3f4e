"""The admin console's credits use cases: accounts by status, one account with its ledger, adjustments, and
the credits moved per day.

An adjustment is a money move like a consume (``store.credits``: one conditional write of the account,
guarded by its transaction id and its idempotency key, never below zero), so the same key and body answer
the first result and nothing moves twice. Each adjustment applied records one audit entry; a replay records
nothing (a crash between the move and its audit entry loses that entry: the ledger still shows the move,
with its reason).
"""

from __future__ import annotations

from datetime import timedelta

from woo_backend.clock import Clock, utcnow
from woo_backend.domain.credits import (
    AdjustmentResult,
    ConsumeRefused,
    CreditAccount,
    DayTotals,
    LedgerEntry,
    MissingIdempotencyKey,
    Replayed,
    adjustment_fingerprint,
    day_totals,
    plan_adjustment,
)
from woo_backend.errors import Busy
from woo_backend.observability import metrics
from woo_backend.services.audit_ports import AuditLog
from woo_backend.services.credits import CreditsService, checked_replay, new_transaction_id
from woo_backend.services.credits_ports import CreditsLedger, CreditsReports

ADJUST_ACTION = "credits.adjust"


class AdminCredits:
    def __init__(
        self,
        credits: CreditsService,
        ledger: CreditsLedger,
        reports: CreditsReports,
        audit: AuditLog,
        clock: Clock = utcnow,
    ) -> None:
        self.credits = credits
        self.ledger = ledger
        self.reports = reports
        self.audit = audit
        self.clock = clock

    # -------------------------------------------------------------- reads
    def accounts(self, status: str, limit: int, cursor: str | None) -> tuple[list[CreditAccount], str | None]:
        return self.reports.accounts(status, limit, cursor)

    def order(
        self, order_key: str, limit: int, cursor: str | None
    ) -> tuple[CreditAccount, list[LedgerEntry], str | None]:
        """The account (``UnknownOrder`` if none) and a page of its ledger, newest first."""
        account = self.credits.account(order_key)
        entries, next_cursor = self.credits.transactions(order_key, limit, cursor)
        return account, entries, next_cursor

    def daily(self, days: int) -> list[DayTotals]:
        """The last ``days`` UTC days (today included), oldest first, a row for each even when nothing moved."""
        today = self.clock().date()
        wanted = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
        moves = self.reports.days_moves(wanted)
        return [day_totals(day.isoformat(), moves.get(day, [])) for day in wanted]

    # -------------------------------------------------------------- adjust
    def adjust(
        self, order_key: str, amount: int, reason: str, key: str | None, who: str
    ) -> tuple[AdjustmentResult, bool]:
        """Apply a signed adjustment once per ``key``: the result and whether it is a replay of the first."""
        if key is None:
            raise MissingIdempotencyKey("Idempotency-Key header is required: an adjustment is applied once per key")
        fingerprint = adjustment_fingerprint(amount, reason)
        first = self.ledger.idempotency_record(order_key, key)  # a key the account item has let go
        if first is not None:
            return _checked(order_key, first, fingerprint), True
        for _ in range(3):
            now = self.clock()
            try:
                result = self.ledger.adjust(order_key, amount, reason, new_transaction_id(), now, key, fingerprint)
            except Replayed as replay:
                return _checked(order_key, replay, fingerprint), True
            except ConsumeRefused as refused:
                plan_adjustment(refused.current, amount)  # raises the reason from the state the write found
                continue  # that state allows it: the account changed under a repair; once more
            adjusted = AdjustmentResult.of(order_key, result)
            self.audit.record(
                who,
                ADJUST_ACTION,
                order_key,
                now,
                before={"balance": adjusted.balance - amount},
                after={"balance": adjusted.balance, "amount": amount},
                note=reason,
            )
            metrics.add_metric(name="CreditsAdjusted", unit="Count", value=abs(amount))
            return adjusted, False
        raise Busy("the order keeps changing; retry shortly")


def _checked(order_key: str, replay: Replayed, fingerprint: str) -> AdjustmentResult:
    return AdjustmentResult.of(order_key, checked_replay(replay, fingerprint))
