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
from datetime import datetime
from typing import Any

from woo_backend.domain.credits import ConsumeResult, LedgerEntry, MoveType, ledger_sort_key, move_effect

MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS = "moves", "move_seq", "move_before", "keys"
JOURNAL = (MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS)
LEDGER_PREFIX = "LEDGER#"
FLUSH_AT = 8  # recorded moves an item keeps before a writer removes those already in the ledger
MAX_KEYS = 2000  # idempotency keys an item remembers (older ones live on in their IDEM records)


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


def stale_keys(values: dict[str, Any], oldest: datetime) -> list[str]:
    """Keys to forget: used before ``oldest`` (their TTL), and the oldest beyond ``MAX_KEYS``."""
    keys: dict[str, Any] = values.get(KEYS) or {}
    by_age = sorted(keys, key=lambda k: str(keys[k]["at"]))
    expired = [k for k in by_age if str(keys[k]["at"]) < oldest.isoformat()]
    overflow = by_age[: max(0, len(keys) - MAX_KEYS)]
    return sorted(set(expired) | set(overflow))[:50]  # bounded: one update expression stays small


def flush_expression(txs: list[str], keys: list[str]) -> tuple[str, dict[str, str]]:
    """``REMOVE`` the recorded moves ``txs`` (their entries written) and the forgotten ``keys``."""
    paths, attribute_names = [], {}
    for i, tx in enumerate(txs):
        attribute_names[f"#t{i}"] = tx
        paths += [f"#{name}.#t{i}" for name in (MOVES, MOVE_SEQ, MOVE_BEFORE)]
    for i, key in enumerate(keys):
        attribute_names[f"#k{i}"] = key
        paths.append(f"#{KEYS}.#k{i}")
    for name in (MOVES, MOVE_SEQ, MOVE_BEFORE) if txs else ():
        attribute_names[f"#{name}"] = name
    if keys:
        attribute_names[f"#{KEYS}"] = KEYS
    return "REMOVE " + ", ".join(paths), attribute_names
