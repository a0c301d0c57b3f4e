"""The per-user capture lease in ``PaymentsTable`` (on ``USER#<id>``/``HOLDS``).

Topomer takes absolute balances, so only one run at a time may move a user's balance: a capture, a
stopped payment's order hold and the reconciliation each take the user's lease first. It is a conditional
write with an expiry, so a run that died leaves a lease the next one takes over once it has expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from woo_backend.clock import iso
from woo_backend.dynamo import conditional_update
from woo_backend.store.payments_table import PaymentsTable, user_key

LEASE_CONDITION = "attribute_not_exists(#lease_until) OR #lease_until < :now OR #lease_owner = :owner"


class LeaseStore(PaymentsTable):
    def acquire_lease(self, user_id: str, owner: str, now: datetime, ttl: timedelta) -> bool:
        """Take the user's capture lease (free, expired, or already ours); ``False`` if another holds it."""
        update = "SET #lease_owner = :owner, #lease_until = :until, #user_id = if_not_exists(#user_id, :uid)"
        values = {":owner": owner, ":until": iso(now + ttl), ":now": iso(now), ":uid": user_id}
        taken = conditional_update(self.client, self.table, user_key(user_id), update, LEASE_CONDITION, values)
        return taken is not None

    def release_lease(self, user_id: str, owner: str) -> None:
        # Refused when it is not ours any more (it expired and was taken): nothing to do then.
        conditional_update(
            self.client,
            self.table,
            user_key(user_id),
            "REMOVE #lease_owner, #lease_until",
            "#lease_owner = :owner",
            {":owner": owner},
        )
