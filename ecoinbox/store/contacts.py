"""Contacts across channels: the store's side (a mixin of `SQLiteStore`).

Accounts are linked into one contact automatically on ingest only where two of them own the same
proven thing (see `ecoinbox.contacts`), and by hand. Every link, unlink and note is kept in
`contact_events` with who and why; accounts the manager separated are never joined again by a
proof. `authors.contact_id` NULL is a contact of one: nothing is written for the many people
who only ever wrote on one channel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ecoinbox.contacts import CLAIM, PROOF_ACTOR, normalize_proof, proof_reason
from ecoinbox.model import Author, Contact, ContactAccount, ConversationRow
from ecoinbox.store.base import Change, ChangeKind
from ecoinbox.store.convert import to_conversation_row
from ecoinbox.store.rows import RowsStore
from ecoinbox.store.sql import execute_many, fetch_all, fetch_one
from ecoinbox.store.times import from_ms, to_ms

if TYPE_CHECKING:
    import aiosqlite

NOTE_CHARS = 4000
"""A contact's note is cut to this many characters."""
CONTACT_CONVERSATIONS = 500
"""The contact panel lists at most this many of a person's conversations (newest first)."""
_CHUNK = 400


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _forms(proof: str) -> tuple[str, str]:
    """What a proof is looked up as: the thing owned, and a claim to it."""
    owned = proof.removeprefix(CLAIM)
    return owned, CLAIM + owned


class ContactsStore(RowsStore):
    """Contacts: who is one person across channels, their conversations and the manager's note."""

    # ---- on ingest ---------------------------------------------------------------------------

    async def _link_proven(
        self,
        db: aiosqlite.Connection,
        authors: Mapping[tuple[str, str], Author],
        ids: Mapping[tuple[str, str], int],
    ) -> None:
        """Remember what each author of a batch owns, and link those who own the same thing.

        One read per batch when nothing is new (the usual case); writes only for new proofs.
        """
        pairs: set[tuple[str, int]] = set()
        for key, author in authors.items():
            for raw in author.proofs:
                proof = normalize_proof(raw)
                if proof is not None:
                    pairs.add((proof, ids[key]))
        if not pairs:
            return
        wanted = sorted({form for proof, _ in pairs for form in _forms(proof)})
        owners: dict[str, set[int]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await fetch_all(
                db, f"SELECT proof, author_id FROM author_proofs WHERE proof IN ({_marks(chunk)})", chunk
            )
            for row in rows:
                owners.setdefault(row[0], set()).add(int(row[1]))
        new = sorted(pair for pair in pairs if pair[1] not in owners.get(pair[0], ()))
        if not new:
            return
        await execute_many(db, "INSERT OR IGNORE INTO author_proofs (proof, author_id) VALUES (?, ?)", new)
        for proof, author_id in new:
            owners.setdefault(proof, set()).add(author_id)
        for proof, author_id in new:
            owned = proof.removeprefix(CLAIM)
            holders = owners.get(owned, set())
            claimants = owners.get(CLAIM + owned, set())
            # Owning the same thing links; claiming it links to its owner only if nobody else does.
            if proof == owned:
                others = holders | (claimants if len(claimants) == 1 else set())
            else:
                others = holders if len(claimants) == 1 else set()
            for other in sorted(others - {author_id}):
                await self._join(db, author_id, other, PROOF_ACTOR, proof_reason(owned))

    # ---- reading -----------------------------------------------------------------------------

    async def contact(self, author_id: int) -> Contact | None:
        """The person behind this account: every account, conversation (newest first), note."""
        db = self._read()
        contact_id, members = await self._members(db, author_id)
        if not members:
            return None
        marks = _marks(members)
        rows = await fetch_all(
            db, f"SELECT id, channel, handle, display_name, url FROM authors WHERE id IN ({marks})", members
        )
        linked: dict[int, tuple[str, str, int]] = {}
        if contact_id is not None:
            events = await fetch_all(
                db,
                "SELECT author_id, actor, reason, at, other_id FROM contact_events WHERE contact_id = ?"
                " AND action = 'linked' ORDER BY at, id",
                (contact_id,),
            )
            for event in events:  # the account a link was made to shares its why, if it has none
                if event[4] is not None and int(event[4]) not in linked:
                    linked[int(event[4])] = (event[1], event[2], event[3])
                linked[int(event[0])] = (event[1], event[2], event[3])
            linked = {member: linked[member] for member in linked if member in members}
        accounts = []
        for row in rows:
            actor, why, at = linked.get(int(row[0]), ("", "", None))
            accounts.append(ContactAccount(
                author_id=int(row[0]), channel=row[1], handle=row[2], display_name=row[3], url=row[4],
                linked_by=actor, why=why, linked_at=from_ms(at),
            ))  # fmt: skip
        # The account asked about first, then the others in the order they were linked.
        order = {a: i for i, a in enumerate(linked)} | {author_id: -1}
        accounts.sort(key=lambda a: (order.get(a.author_id, len(order)), a.author_id))
        note = ""
        if contact_id is not None:
            found = await fetch_one(db, "SELECT note FROM contacts WHERE id = ?", (contact_id,))
            note = found[0] if found else ""
        first = await fetch_one(
            db, f"SELECT min(created_at) FROM messages WHERE author_id IN ({marks})", members
        )
        return Contact(
            id=contact_id,
            accounts=tuple(accounts),
            conversations=tuple(await self.contact_conversations(author_id)),
            first_contact=from_ms(first[0]) if first else None,
            note=note,
        )

    async def conversation_contact(self, conversation_id: int) -> Contact | None:
        """The person a conversation is with (who spoke last from outside, or who started it)."""
        row = await fetch_one(
            self._read(), "SELECT author_id FROM conversations WHERE id = ?", (conversation_id,)
        )
        if row is None or row[0] is None:
            return None
        return await self.contact(int(row[0]))

    async def contact_conversations(self, author_id: int) -> list[ConversationRow]:
        """Every conversation this person wrote in, on any channel, newest activity first."""
        db = self._read()
        _, members = await self._members(db, author_id)
        if not members:
            return []
        sql = (
            self._ROW_SQL + f" WHERE c.id IN (SELECT conversation_id FROM messages WHERE author_id IN"
            f" ({_marks(members)})) ORDER BY c.last_activity DESC, c.id DESC LIMIT ?"
        )
        fetched = await fetch_all(db, sql, (*members, CONTACT_CONVERSATIONS))
        return [to_conversation_row(row) for row in fetched]

    async def find_authors(self, text: str, *, limit: int = 30) -> list[ContactAccount]:
        """Accounts on every channel whose handle or name contains `text` (handles starting with
        it first), for the manager to link by hand."""
        words = text.strip()
        if not words:
            return []
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await fetch_all(
            self._read(),
            "SELECT id, channel, handle, display_name, url FROM authors"
            " WHERE handle LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\'"
            " ORDER BY handle LIKE ?2 ESCAPE '\\' DESC, lower(handle), id LIMIT ?3",
            (f"%{escaped}%", f"{escaped}%", limit),
        )
        return [ContactAccount(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def contact_events(self, author_id: int) -> list[tuple[Any, ...]]:
        """(at, actor, action, reason, other author id) of every link, unlink and note touching
        this account, oldest first."""
        rows = await fetch_all(
            self._read(),
            "SELECT at, actor, action, reason, CASE WHEN author_id = ?1 THEN other_id ELSE author_id END"
            " FROM contact_events WHERE author_id = ?1 OR other_id = ?1 ORDER BY at, id",
            (author_id,),
        )
        return [(from_ms(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    # ---- the manager's changes -----------------------------------------------------------------

    async def link_authors(
        self,
        author_id: int,
        other_id: int,
        *,
        actor: str,
        reason: str = "",
        conversation_id: int | None = None,
    ) -> bool:
        """Make two accounts one person (their contacts merge); False if they already were.

        With `conversation_id` (where the manager did it), its history says so too."""
        async with self._write() as db:
            done = await self._join(db, author_id, other_id, actor, reason or "linked by hand")
            if done and conversation_id is not None:
                await self._record(
                    db, conversation_id, actor, "contact linked", None, await self._who(db, other_id)
                )
        if done:
            self._notify(Change(ChangeKind.CONTACT))
        return done

    async def unlink_author(
        self, author_id: int, *, actor: str, reason: str = "", conversation_id: int | None = None
    ) -> bool:
        """Take an account out of its contact; proofs never put it back with those accounts."""
        async with self._write() as db:
            contact_id, members = await self._members(db, author_id)
            if contact_id is None or len(members) < 2:
                return False
            others = [m for m in members if m != author_id]
            await db.execute("UPDATE authors SET contact_id = NULL WHERE id = ?", (author_id,))
            await execute_many(
                db, "INSERT OR IGNORE INTO contact_apart (author_id, other_id) VALUES (?, ?)",
                [pair for other in others for pair in ((author_id, other), (other, author_id))],
            )  # fmt: skip
            await self._event(
                db, contact_id, author_id, None, actor, "unlinked", reason or "unlinked by hand"
            )
            if conversation_id is not None:
                await self._record(
                    db, conversation_id, actor, "contact unlinked", await self._who(db, author_id), None
                )
        self._notify(Change(ChangeKind.CONTACT))
        return True

    async def set_contact_note(
        self, author_id: int, note: str, *, actor: str, conversation_id: int | None = None
    ) -> None:
        """The manager's note about this person (plain text, never sent)."""
        note = note.strip()[:NOTE_CHARS]
        async with self._write() as db:
            contact_id, _ = await self._members(db, author_id)
            if contact_id is None:
                contact_id = await self._new_contact(db, note)
                await db.execute("UPDATE authors SET contact_id = ? WHERE id = ?", (contact_id, author_id))
            else:
                await db.execute("UPDATE contacts SET note = ? WHERE id = ?", (note, contact_id))
            await self._event(db, contact_id, author_id, None, actor, "note", note[:200])
            if conversation_id is not None:
                await self._record(db, conversation_id, actor, "contact note", None, note[:200])
        self._notify(Change(ChangeKind.CONTACT))

    # ---- inside a transaction ------------------------------------------------------------------

    async def _members(self, db: aiosqlite.Connection, author_id: int) -> tuple[int | None, list[int]]:
        row = await fetch_one(db, "SELECT contact_id FROM authors WHERE id = ?", (author_id,))
        if row is None:
            return None, []
        if row[0] is None:
            return None, [author_id]
        rows = await fetch_all(db, "SELECT id FROM authors WHERE contact_id = ? ORDER BY id", (row[0],))
        return int(row[0]), [int(r[0]) for r in rows]

    async def _join(
        self, db: aiosqlite.Connection, author_id: int, other_id: int, actor: str, reason: str
    ) -> bool:
        if author_id == other_id:
            return False
        first, first_members = await self._members(db, author_id)
        second, second_members = await self._members(db, other_id)
        if not first_members or not second_members or (first is not None and first == second):
            return False
        pairs = [(a, b) for a in first_members for b in second_members]
        if actor == PROOF_ACTOR:
            if await self._apart(db, first_members, second_members):
                return False  # the manager said they are not one person
        else:  # the manager overrides an earlier "not one person"
            await execute_many(
                db, "DELETE FROM contact_apart WHERE author_id = ? AND other_id = ?",
                pairs + [(b, a) for a, b in pairs],
            )  # fmt: skip
        # The larger contact stays; the other's accounts (and note) move into it.
        target: int | None
        if second is not None and (first is None or len(second_members) > len(first_members)):
            target, moving = second, first_members
            dropped = first
        else:
            target, moving = first, second_members
            dropped = second
        joining = moving
        if target is None:  # a new contact: the first account is where the others joined
            target = await self._new_contact(db, "")
            moving = first_members + second_members
        await execute_many(
            db, "UPDATE authors SET contact_id = ? WHERE id = ?", [(target, m) for m in moving]
        )
        if dropped is not None:
            await self._merge_note(db, target, dropped)
        for member in joining:
            partner = other_id if member in first_members else author_id  # across the link
            await self._event(db, target, member, partner, actor, "linked", reason)
        return True

    async def _who(self, db: aiosqlite.Connection, author_id: int) -> str:
        row = await fetch_one(db, "SELECT channel, handle FROM authors WHERE id = ?", (author_id,))
        return f"@{row[1]} ({row[0]})" if row else str(author_id)

    async def _apart(self, db: aiosqlite.Connection, first: list[int], second: list[int]) -> bool:
        row = await fetch_one(
            db,
            f"SELECT 1 FROM contact_apart WHERE author_id IN ({_marks(first)}) AND other_id IN ({_marks(second)})"
            " LIMIT 1",
            (*first, *second),
        )
        return row is not None

    async def _new_contact(self, db: aiosqlite.Connection, note: str) -> int:
        row = await fetch_one(
            db, "INSERT INTO contacts (note, created_at) VALUES (?, ?) RETURNING id",
            (note, to_ms(self._clock())),
        )  # fmt: skip
        return int(row[0])  # type: ignore[index]

    async def _merge_note(self, db: aiosqlite.Connection, target: int, dropped: int) -> None:
        rows = await fetch_all(db, "SELECT id, note FROM contacts WHERE id IN (?, ?)", (target, dropped))
        notes = {int(r[0]): r[1] for r in rows}
        merged = "\n\n".join(n for n in (notes.get(target, ""), notes.get(dropped, "")) if n)
        await db.execute("UPDATE contacts SET note = ? WHERE id = ?", (merged[:NOTE_CHARS], target))
        await db.execute("UPDATE contact_events SET contact_id = ? WHERE contact_id = ?", (target, dropped))
        await db.execute("DELETE FROM contacts WHERE id = ?", (dropped,))

    async def _event(
        self, db: aiosqlite.Connection, contact_id: int | None, author_id: int, other_id: int | None,
        actor: str, action: str, reason: str,
    ) -> None:  # fmt: skip
        await db.execute(
            "INSERT INTO contact_events (contact_id, author_id, other_id, at, actor, action, reason)"
            " VALUES (?,?,?,?,?,?,?)",
            (contact_id, author_id, other_id, to_ms(self._clock()), actor, action, reason),
        )
