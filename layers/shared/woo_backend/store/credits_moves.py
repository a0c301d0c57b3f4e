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

A write DynamoDB applied but whose answer was lost is re-sent by the SDK's retry (or ours), byte for byte; it
must be refused and recognised as our own, never applied twice. Each move's write also records, in ``writers``,
its writer's last transaction id (a writer: one container's thread, which sends one move at a time and re-sends
only its last one) and, in ``writer_seq``, that move's sequence number; the write is conditioned on its
transaction id being neither recorded in ``moves`` nor its writer's last one (``NOT_APPLIED``). So the guard
costs one entry per recent writer, not one per recent move: a hot order's item stays small. A writer's entry
leaves the item ``KEY_GRACE`` after its last move (a dead container's, or an idle one's). A flushed move with an
idempotency key leaves its sequence number in ``done`` for ``KEY_GRACE``, and its key goes with it.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from woo_backend.clock import iso
from woo_backend.domain.credits import ConsumeResult, LedgerEntry, MoveType, ledger_sort_key, move_effect

MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS, DONE = "moves", "move_seq", "move_before", "keys", "done"
WRITERS, WRITER_SEQ = "writers", "writer_seq"
JOURNAL = (MOVES, MOVE_SEQ, MOVE_BEFORE, KEYS, DONE, WRITERS, WRITER_SEQ)
LEDGER_PREFIX = "LEDGER#"
FLUSH_AT = 8  # recorded moves an item keeps before a writer removes those already in the ledger
IDEMPOTENCY_TTL = timedelta(days=7)
# A flushed move's transaction id (and its idempotency key) leaves the item this long after the flush: longer
# than any request lives (the function's 15 s timeout, the SDK's 3 attempts of at most 7 s), so a re-sent write
# and a retry that found no IDEM record before its write still meet them in the item's condition. Both cost
# write units on every move while they stay in the item: they stay only that long.
KEY_GRACE = timedelta(seconds=60)
# One flush's update expression must stay under DynamoDB's 4 KB expression limit: at most this many moves and
# this many forgotten ids per flush (the worst case is about 2.7 KB, pinned by a unit test); the rest go next.
FLUSH_MOVES = 20
FLUSH_FORGET = 20
# Condition of every move: its transaction id is not in the item yet (see the module docstring).
NOT_APPLIED = (
    f"attribute_not_exists(#{MOVES}.#txid) AND attribute_not_exists(#{DONE}.#txid) AND "
    f"(attribute_not_exists(#{WRITERS}.#wid) OR #{WRITERS}.#wid.#wtx <> :txid)"
)


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


# The SET clauses recording move ``#txid`` (its transaction id; ``:move`` its known part) in the account item, and
# its writer ``#wid``'s last move (``:writer``: the transaction id and the time).
RECORD = (
    f"#{MOVES}.#txid = :move, #{MOVE_SEQ}.#txid = #version + :one, #{MOVE_BEFORE}.#txid = #balance, "
    f"#{WRITERS}.#wid = :writer, #{WRITER_SEQ}.#wid = #version + :one"
)
_writer = threading.local()


def writer_id() -> str:
    """This thread's writer id, made at its first move (so never captured in a SnapStart snapshot: init moves
    nothing) and unique per container and thread."""
    wid: str | None = getattr(_writer, "id", None)
    if wid is None:
        wid = _writer.id = f"w_{secrets.token_hex(8)}"
    return wid


def known_part(
    move: MoveType,
    requested: int | None,
    now: str,
    key: str | None,
    fingerprint: str | None,
    reason: str | None = None,
) -> dict[str, Any]:
    part: dict[str, Any] = {"type": move, "at": now}
    if reason is not None:
        part["reason"] = reason
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
            reason=part.get("reason"),
        )
        found[tx] = Move(int(seqs[tx]), entry, part.get("fp"))
    return found


def day_pk(created_at: str) -> str:
    """The ``gsi1`` partition of the ledger entries written on one UTC day (``created_at`` is UTC ISO 8601)."""
    return f"DAY#{datetime.fromisoformat(created_at).astimezone(UTC).date().isoformat()}"


def ledger_items(order_key: str, order_id: int, moves: list[Move], now: datetime) -> list[dict[str, Any]]:
    """The ledger entries (and idempotency records) of ``moves``: the same items whoever writes them, but for
    the record's expiry, counted from when it is written (a move left unwritten for days, then repaired, still
    answers its key for ``IDEMPOTENCY_TTL``). Each entry is also listed by day in ``gsi1`` (``DAY#<day>``,
    ``<created_at>#<order_key>#<seq>``) for the admin's daily totals; entries written before that have none."""
    puts: list[dict[str, Any]] = []
    for move in moves:
        if move.entry.type == "revoke" and move.entry.amount == 0:
            continue  # closing an empty account moves nothing: no entry
        created = move.entry.created_at
        by_day = {"gsi1pk": day_pk(created), "gsi1sk": f"{created}#{order_key}#{ledger_sort_key(move.seq)}"}
        puts.append(
            {"pk": order_pk(order_key), "sk": move.sort_key, **move.entry.model_dump(exclude_none=True), **by_day}
        )
        key = move.entry.idempotency_key
        if key is not None:
            written = max(datetime.fromisoformat(move.entry.created_at), now)
            puts.append(
                {
                    "pk": idem_pk(order_key, key),
                    "sk": "IDEM",
                    "fingerprint": move.fingerprint,
                    "result": move.result(order_id).model_dump_json(),
                    "created_at": move.entry.created_at,
                    "expires_at": int((written + IDEMPOTENCY_TTL).timestamp()),
                }
            )
    return puts


def done_seq(values: dict[str, Any], tx: str) -> int | None:
    """The sequence number of move ``tx`` if the item says it was applied (and flushed): from ``done``, or from
    its writer's last move."""
    done: dict[str, Any] = values.get(DONE) or {}
    if tx in done:
        return int(done[tx]["seq"])
    writers: dict[str, Any] = values.get(WRITERS) or {}
    seqs: dict[str, Any] = values.get(WRITER_SEQ) or {}
    wid = next((w for w, last in writers.items() if str(last.get("tx")) == tx and w in seqs), None)
    return int(seqs[wid]) if wid is not None else None


@dataclass(frozen=True)
class Stale:
    """Flushed moves' transaction ids, and their idempotency keys, past ``KEY_GRACE``: to forget."""

    txs: list[str]
    keys: list[str]
    writers: list[str] = field(default_factory=list)


def stale(values: dict[str, Any], now: datetime) -> Stale:
    done: dict[str, Any] = values.get(DONE) or {}
    cutoff = iso(now - KEY_GRACE)
    txs = sorted(tx for tx, mark in done.items() if str(mark["at"]) < cutoff)[:FLUSH_FORGET]
    gone = set(txs)
    keys: dict[str, Any] = values.get(KEYS) or {}
    writers: dict[str, Any] = values.get(WRITERS) or {}
    idle = sorted(w for w, last in writers.items() if str(last.get("at", "")) < cutoff)[:FLUSH_FORGET]
    return Stale(txs, sorted(k for k, first in keys.items() if str(first["tx"]) in gone), idle)


def flush_expression(moves: list[Move], forget: Stale, now: datetime) -> tuple[str, dict[str, Any], dict[str, str]]:
    """Remove the recorded ``moves`` (their entries and IDEM records written) and mark them ``done`` now, and
    remove the ``forget`` ids and keys: the update expression, its values and its names."""
    sets, removes, attribute_names = [], [], {}
    values: dict[str, Any] = {}
    for i, move in enumerate(moves[:FLUSH_MOVES]):
        attribute_names[f"#t{i}"] = move.entry.transaction_id
        removes += [f"#{name}.#t{i}" for name in (MOVES, MOVE_SEQ, MOVE_BEFORE)]
        if move.entry.idempotency_key is not None:  # its key stays guarded for KEY_GRACE, then leaves with it
            sets.append(f"#{DONE}.#t{i} = :d{i}")
            values[f":d{i}"] = {"seq": move.seq, "at": iso(now)}
    for i, tx in enumerate(forget.txs[:FLUSH_FORGET]):
        attribute_names[f"#x{i}"] = tx
        removes.append(f"#{DONE}.#x{i}")
    for i, key in enumerate(forget.keys[:FLUSH_FORGET]):  # at most one key per forgotten id
        attribute_names[f"#k{i}"] = key
        removes.append(f"#{KEYS}.#k{i}")
    for i, wid in enumerate(forget.writers[:FLUSH_FORGET]):
        attribute_names[f"#w{i}"] = wid
        removes += [f"#{WRITERS}.#w{i}", f"#{WRITER_SEQ}.#w{i}"]
    for name in JOURNAL:
        if f"#{name}." in " ".join(sets + removes):
            attribute_names[f"#{name}"] = name
    expression = ("SET " + ", ".join(sets) + " " if sets else "") + ("REMOVE " + ", ".join(removes) if removes else "")
    return expression.strip(), values, attribute_names
