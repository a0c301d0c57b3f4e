"""The moves an account item records until their ledger entries are written (``store.credits``' journal).

Every money move is one ``UpdateItem`` on the account's ``STATE`` item that also records the move there,
under its transaction id, in three maps: ``moves`` (what is known before the write: type, credits asked,
time, idempotency key and fingerprint), ``move_seq`` (``#version + 1``) and ``move_before`` (``#balance``).
DynamoDB evaluates every operand of an update against the item as it was before that update, so these are
exactly the move's sequence number and the balance it started from, whatever ran before it. From them
``domain.credits.move_effect`` derives the ledger entry (amount, balance after) the same way for the writer
(from its ``ALL_NEW`` answer) and for anyone repairing after a crash (from any later read of the item).
The entry is then written under ``LEDGER#<seq>``: the same key and content whoever writes it, so rewriting
it is harmless. Recorded moves are removed once their entries are written (``flush_expression``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from woo_backend.clock import iso
from woo_backend.domain.credits import ConsumeResult, LedgerEntry, MoveType, ledger_sort_key, move_effect

MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS, FLUSHED = "moves", "move_seq", "move_before", "keys", "key_flushed"
JOURNAL = (MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS, FLUSHED)
LEDGER_PREFIX = "LEDGER#"
FLUSH_AT = 8  # recorded moves an item keeps before a writer removes those already in the ledger
IDEMPOTENCY_TTL = timedelta(days=7)
# A key leaves the item this long after a flush saw its IDEM record written: longer than any request lives
# (the function's 15 s timeout), so a retry that found no IDEM record before its write still meets the key in
# the item's condition. Keys in the item cost write units on every move: they stay only that long.
KEY_GRACE = timedelta(seconds=60)


def order_pk(order_key: str) -> str:
    return f"ORDER#{order_key}"


def idem_pk(order_key: str, key: str) -> str:
    return f"IDEM#{order_key}#{key}"


@dataclass(frozen=True)
class Move:
    """One recorded move: its ledger entry and, for a consume with a key, the key and its fingerprint."""

    seq: int
    entry: LedgerEntry
    fingerprint: str | None

    @property
    def sort_key(self) -> str:
        return LEDGER_PREFIX + ledger_sort_key(self.seq)

    def result(self, order_id: int) -> ConsumeResult:
        return ConsumeResult(
            order_id=order_id,
            consumed=-self.entry.amount,
            balance=self.entry.balance_after,
            transaction_id=self.entry.transaction_id,
        )


# The SET clauses recording move ``#txid`` (its transaction id; ``:move`` its known part) in the account item.
RECORD = f"#{MOVES}.#txid = :move, #{MOVE_SEQ}.#txid = #version + :one, #{MOVE_BEFORE}.#txid = #balance"


def known_part(
    move: MoveType, requested: int | None, now: str, key: str | None, fingerprint: str | None
) -> dict[str, Any]:
    part: dict[str, Any] = {"type": move, "at": now}
    if requested is not None:
        part["n"] = requested
    if key is not None:
        part["key"] = key
        part["fp"] = fingerprint
    return part


def recorded(values: dict[str, Any]) -> dict[str, Move]:
    """Every move recorded in an account item (deserialised), by transaction id."""
    moves: dict[str, Any] = values.get(MOVES) or {}
    seqs: dict[str, Any] = values.get(MOVE_SEQ) or {}
    befores: dict[str, Any] = values.get(MOVE_BEFORE) or {}
    found = {}
    for tx, part in moves.items():
        if tx not in seqs or tx not in befores:
            continue
        requested = int(part["n"]) if "n" in part else None
        amount, after = move_effect(part["type"], requested, int(befores[tx]))
        entry = LedgerEntry(
            transaction_id=tx,
            type=part["type"],
            amount=amount,
            balance_after=after,
            created_at=part["at"],
            idempotency_key=part.get("key"),
        )
        found[tx] = Move(int(seqs[tx]), entry, part.get("fp"))
    return found


def ledger_items(order_key: str, order_id: int, moves: list[Move]) -> list[dict[str, Any]]:
    """The ledger entries (and idempotency records) of ``moves``: the same items whoever writes them."""
    puts: list[dict[str, Any]] = []
    for move in moves:
        if move.entry.type == "revoke" and move.entry.amount == 0:
            continue  # closing an empty account moves nothing: no entry
        puts.append({"pk": order_pk(order_key), "sk": move.sort_key, **move.entry.model_dump(exclude_none=True)})
        key = move.entry.idempotency_key
        if key is not None:
            created = datetime.fromisoformat(move.entry.created_at)
            puts.append(
                {
                    "pk": idem_pk(order_key, key),
                    "sk": "IDEM",
                    "fingerprint": move.fingerprint,
                    "result": move.result(order_id).model_dump_json(),
                    "created_at": move.entry.created_at,
                    "expires_at": int((created + IDEMPOTENCY_TTL).timestamp()),
                }
            )
    return puts


def stale_keys(values: dict[str, Any], now: datetime) -> list[str]:
    """Keys to forget: their move flushed (IDEM record written) more than ``KEY_GRACE`` ago."""
    flushed: dict[str, Any] = values.get(FLUSHED) or {}
    cutoff = iso(now - KEY_GRACE)
    return sorted(k for k, at in flushed.items() if str(at) < cutoff)[:50]


def flush_expression(moves: list[Move], forget: list[str], now: datetime) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Remove the recorded ``moves`` (their entries and IDEM records written), note when their keys were
    flushed, and remove the ``forget`` keys: the update expression, its values and its names."""
    sets, removes, attribute_names = [], [], {}
    for i, move in enumerate(moves):
        attribute_names[f"#t{i}"] = move.entry.transaction_id
        removes += [f"#{name}.#t{i}" for name in (MOVES, MOVE_SEQ, MOVE_BEFORE)]
        if move.entry.idempotency_key is not None:
            attribute_names[f"#f{i}"] = move.entry.idempotency_key
            sets.append(f"#{FLUSHED}.#f{i} = :now")
    for i, key in enumerate(forget):
        attribute_names[f"#k{i}"] = key
        removes += [f"#{KEYS}.#k{i}", f"#{FLUSHED}.#k{i}"]
    for name in (MOVES, MOVE_SEQ, MOVE_BEFORE) if moves else ():
        attribute_names[f"#{name}"] = name
    if forget:
        attribute_names[f"#{KEYS}"] = KEYS
    if sets or forget:
        attribute_names[f"#{FLUSHED}"] = FLUSHED
    expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE " + ", ".join(removes)
    return expression, ({":now": iso(now)} if sets else {}), attribute_names
