"""``--state FILE``: the sandbox's state in SQLite, so a restart (or a crash) forgets nothing (issue 26).

What it keeps: merchants, balances, auth codes, bindings (access and refresh tokens), OTTs, orders,
refunds, every merchant's clock offset and the traffic journal (its newest ``journal.MAX_ENTRIES``). Not
kept: hosted-page sessions (a browser mid-checkout starts again), Finish Notify deliveries and their
pending retries, and the journal's memory of ids already used (for the duplicate checks).

Each request's changes are committed in one transaction before its answer leaves (``CommitBeforeAnswer``),
in WAL mode: a ``kill -9`` loses at most the request in flight, never half an order. WAL with
``synchronous=NORMAL`` survives the process dying at any point; only a power cut may lose the last
commits. Changes made outside a request (an order closed by the expiry timer) go with the next commit,
and at the latest with the close on stop.

A file that is not SQLite, fails SQLite's own check, or holds another format version is refused with
``StateFileError`` naming it, and is left exactly as it was: it is read through a read-only connection
until it has passed, and nothing is written before that.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from conformance.sandbox.journal import MAX_ENTRIES
from conformance.sandbox.store import AuthCode, Binding, Merchant, Order, Ott, Refund
from conformance.snap.keys import load_public_key
from conformance.snap.orders import OrderStatus

FORMAT = "dana-uat sandbox state"
VERSION = 1          # bump when a record's fields change; an older file is then refused, not misread
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records (kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, key))",
    "CREATE TABLE journal (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)",
)
TIMES = {"expires_at", "access_expires", "refresh_expires", "valid_up_to", "created_at", "paid_at",
         "cancelled_at", "closed_at"}
CLASSES = {cls.KIND: cls for cls in (AuthCode, Binding, Ott, Order, Refund)}


class StateFileError(Exception):
    """The state file cannot be used; the message names it (``dana-uat sandbox`` exits 2)."""


def encode(record) -> dict:
    data = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name in TIMES:
            value = value.isoformat() if value else None
        elif isinstance(value, Decimal):
            value = str(value)
        elif f.name == "order":
            value = value.reference_no          # a refund names its order
        data[f.name] = value
    return data


def decode(kind: str, data: dict, orders: dict[str, Order]):
    values = {}
    for name, value in data.items():
        if name in TIMES:
            value = datetime.fromisoformat(value) if value else None
        elif name == "refunded":
            value = Decimal(value)
        elif name == "order":
            value = orders[value]
        elif name == "status" and kind == Order.KIND:
            value = OrderStatus(value)
        values[name] = value
    return CLASSES[kind](**values)


def _check(path: Path) -> None:
    """Refuse a file this sandbox did not write, read-only: nothing is written to a refused file."""
    with path.open("rb") as raw:
        head = raw.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise StateFileError(f"--state {path}: not a dana-uat sandbox state file (not SQLite); "
                             "give another path, or move this file away")
    if not head:
        return                                   # empty: a new state file
    # immutable: no -wal/-shm made beside a file that has none; with a crash's -wal the reader needs it
    wal = path.with_name(path.name + "-wal").exists()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{'' if wal else '&immutable=1'}", uri=True)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            meta = dict(conn.execute("SELECT name, value FROM meta")) if verdict == "ok" else {}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StateFileError(f"--state {path}: the file is damaged or not a state file ({exc}); "
                             "give another path, or move this file away") from None
    if verdict != "ok":
        raise StateFileError(f"--state {path}: the file is damaged ({verdict}); give another path")
    if meta.get("format") != FORMAT:
        raise StateFileError(f"--state {path}: an SQLite file, but not a dana-uat sandbox state file")
    if meta.get("version") != str(VERSION):
        raise StateFileError(f"--state {path}: format version {meta.get('version')}, this dana-uat reads "
                             f"version {VERSION}; start on a new file (or the dana-uat that wrote it)")


class StateFile:
    """One sandbox's state file, open for the life of the sandbox."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if not fresh:
            _check(self.path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if fresh:
                with self._db:
                    self._db.execute("BEGIN")
                    for statement in SCHEMA:
                        self._db.execute(statement)
                    self._db.executemany("INSERT INTO meta VALUES (?, ?)",
                                         [("format", FORMAT), ("version", str(VERSION))])
        except sqlite3.Error as exc:
            raise StateFileError(f"--state {self.path}: cannot open it ({exc})") from None
        self._lock = threading.Lock()
        self._journal: list[dict] = []
        self._offsets: dict[str, float] = {}
        self.sandbox = None
        self.resumed = not fresh

    # --- reading, once at start ---------------------------------------------------------------
    def restore(self, sandbox) -> dict[str, int]:
        """Load the file into ``sandbox`` and track its changes from now on; how many of each were read."""
        try:
            return self._restore(sandbox)
        except (sqlite3.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
            self._db.close()
            raise StateFileError(f"--state {self.path}: a record cannot be read ({type(exc).__name__}: {exc}); "
                                 "give another path") from None

    def _restore(self, sandbox) -> dict[str, int]:
        rows: dict[str, dict[str, dict]] = {}
        for kind, key, data in self._db.execute("SELECT kind, key, data FROM records"):
            rows.setdefault(kind, {})[key] = json.loads(data)
        orders = {key: decode(Order.KIND, data, {}) for key, data in rows.get(Order.KIND, {}).items()}
        merchants = [Merchant(d["partner_id"], d["merchant_id"], load_public_key(d["public_key_pem"]),
                              d["public_key_pem"]) for d in rows.get("merchant", {}).values()]

        def records(kind: str) -> list:
            return [decode(kind, data, orders) for data in rows.get(kind, {}).values()]

        sandbox.clock.restore({pid: float(v) for pid, v in rows.get("clock", {}).items()})
        store = sandbox.store
        store.track_changes()
        store.restore(merchants, {phone: Decimal(v) for phone, v in rows.get("balance", {}).items()},
                      records(AuthCode.KIND), records(Binding.KIND), dict(rows.get("refresh", {})),
                      records(Ott.KIND), list(orders.values()), records(Refund.KIND))
        store.changes.clear()
        entries = [json.loads(e) for (e,) in self._db.execute("SELECT entry FROM journal ORDER BY seq")]
        sandbox.journal.restore(entries)
        sandbox.journal.subscribe(self._journalled)
        self._offsets = sandbox.clock.offsets()
        self.sandbox = sandbox
        return {"merchants": len(merchants), "orders": len(orders), "bindings": len(rows.get(Binding.KIND, {})),
                "journal": len(entries)}

    def _journalled(self, entry: dict) -> None:
        with self._lock:
            self._journal.append(entry)

    # --- writing, with each request -------------------------------------------------------------
    def _rows(self, changes: dict) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        """What to write and what to delete (a record the store dropped, ``Store._note_gone``)."""
        store = self.sandbox.store
        rows, gone = [], []
        for (kind, key), record in changes.items():
            if record is None:
                gone.append((kind, key))
                continue
            if kind == "merchant":
                data = {"partner_id": record.partner_id, "merchant_id": record.merchant_id,
                        "public_key_pem": record.public_key_pem}
            elif kind == "balance":
                data = str(store.balances.get(key, Decimal("0.00")))
            elif kind == "refresh":
                data = record.access_token        # the refresh token's current binding
            else:
                data = encode(record)
            # ASCII JSON: a lone surrogate ("\\ud800", e.g. in a journalled body or an admin-given id) stays its
            # escape; sqlite3 cannot encode it as UTF-8 and the whole commit, and the answer, failed (issue 22)
            rows.append((kind, key, json.dumps(data, separators=(",", ":"))))
        return rows, gone

    def commit(self) -> None:
        """Write what changed since the last commit, in one transaction."""
        store = self.sandbox.store
        with self._lock:
            with store.lock:
                if not store.changes and not self._journal and self.sandbox.clock.offsets() == self._offsets:
                    return
                rows, gone = self._rows(store.changes)
                store.changes.clear()
                offsets = self.sandbox.clock.offsets()
            rows += [("clock", pid, json.dumps(v)) for pid, v in offsets.items() if self._offsets.get(pid) != v]
            journal, self._journal = self._journal, []
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", rows)
                self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
                if journal:
                    self._db.executemany("INSERT OR REPLACE INTO journal VALUES (?, ?)",
                                         [(e["seq"], json.dumps(e)) for e in journal])
                    self._db.execute("DELETE FROM journal WHERE seq <= ?", (journal[-1]["seq"] - MAX_ENTRIES,))
            self._offsets = offsets

    def close(self) -> None:
        if self.sandbox is not None:
            self.commit()
        self._db.close()


class CommitBeforeAnswer:
    """ASGI middleware: the request's changes are in the file before its answer starts to leave."""

    def __init__(self, app, state: StateFile):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def committed(message):
            if message["type"] == "http.response.start":
                self.state.commit()        # on the loop: a WAL commit without fsync (bench/: its cost)
            await send(message)
        return await self.app(scope, receive, committed)
