"""The schema, as an ordered list of migrations applied by `PRAGMA user_version`.

Never edit a migration that has shipped: add the next one. Each runs inside the same
`BEGIN IMMEDIATE` transaction that reads and bumps user_version, so a crash mid-way rolls back
and two instances starting together cannot both migrate.
"""

from __future__ import annotations

# "ecoi": lets us refuse to open a SQLite file that belongs to another program.
APPLICATION_ID = 0x65636F69

MIGRATIONS: tuple[str, ...] = (
    # 1: conversations, messages, authors, cursors, outbox, history
    """
    CREATE TABLE authors (
        id           INTEGER PRIMARY KEY,
        channel      TEXT NOT NULL,
        remote_id    TEXT NOT NULL,
        handle       TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        url          TEXT,
        UNIQUE (channel, remote_id)
    );

    CREATE TABLE conversations (
        id               INTEGER PRIMARY KEY,
        channel          TEXT NOT NULL,
        root_remote_id   TEXT NOT NULL,
        state            TEXT NOT NULL DEFAULT 'open',
        state_changed_at INTEGER NOT NULL DEFAULT 0,   -- ms, older inbound messages never reopen
        needs_reply      INTEGER NOT NULL DEFAULT 0,   -- the newest message is from outside
        last_activity    INTEGER NOT NULL,             -- ms since the epoch, newest message
        author_id        INTEGER REFERENCES authors (id),
        snippet          TEXT NOT NULL DEFAULT '',     -- newest inbound text, cut, untrusted
        message_count    INTEGER NOT NULL DEFAULT 0,
        origin           TEXT NOT NULL,
        UNIQUE (channel, root_remote_id)
    );
    -- The inbox reads pages of one state in this exact order (keyset pagination).
    CREATE INDEX conversations_by_view
        ON conversations (state, needs_reply DESC, last_activity DESC, id DESC);

    CREATE TABLE messages (
        id               INTEGER PRIMARY KEY,
        channel          TEXT NOT NULL,
        remote_id        TEXT NOT NULL,
        conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
        parent_remote_id TEXT,
        author_id        INTEGER NOT NULL REFERENCES authors (id),
        text             TEXT NOT NULL,
        spoiler          TEXT NOT NULL DEFAULT '',
        links            TEXT NOT NULL DEFAULT '',     -- newline-separated real link targets
        created_at       INTEGER NOT NULL,
        edited_at        INTEGER,
        deleted          INTEGER NOT NULL DEFAULT 0,
        url              TEXT,
        visibility       TEXT,
        language         TEXT,
        origin           TEXT NOT NULL,
        UNIQUE (channel, remote_id)
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, id);

    CREATE TABLE cursors (
        channel TEXT PRIMARY KEY,
        value   TEXT NOT NULL                          -- JSON object of sub-cursors
    );

    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
        channel          TEXT NOT NULL,
        parent_remote_id TEXT NOT NULL,
        text             TEXT NOT NULL,
        visibility       TEXT,
        idempotency_key  TEXT NOT NULL UNIQUE,
        state            TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        first_attempt_at INTEGER,
        next_attempt_at  INTEGER NOT NULL,
        lease_owner      TEXT,
        lease_until      INTEGER,
        error            TEXT NOT NULL DEFAULT '',
        remote_id        TEXT,
        sent_at          INTEGER
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE INDEX outbox_by_conversation ON outbox (conversation_id);

    CREATE TABLE history (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        at              INTEGER NOT NULL,
        actor           TEXT NOT NULL,
        action          TEXT NOT NULL,
        old_value       TEXT,
        new_value       TEXT
    );
    CREATE INDEX history_by_conversation ON history (conversation_id, at);
    """,
    # 2: forum redirects (topics in the outbox, linked conversations), languages, canned uses
    """
    ALTER TABLE messages ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN thread_ref TEXT;
    ALTER TABLE conversations ADD COLUMN language TEXT;              -- of the newest inbound message
    ALTER TABLE conversations ADD COLUMN reason TEXT NOT NULL DEFAULT '';  -- e.g. "redirected"

    -- A reply that waits for a topic: its text holds {topic_url} until the topic exists.
    ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';  -- 'reply' or 'topic'
    ALTER TABLE outbox ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN category TEXT;
    ALTER TABLE outbox ADD COLUMN depends_on INTEGER REFERENCES outbox (id);
    ALTER TABLE outbox ADD COLUMN language TEXT;
    ALTER TABLE outbox ADD COLUMN canned TEXT NOT NULL DEFAULT '';   -- canned reply names, space-separated
    ALTER TABLE outbox ADD COLUMN link TEXT;                         -- the canned link it carries

    CREATE TABLE conversation_links (
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        linked_id       INTEGER NOT NULL REFERENCES conversations (id),
        kind            TEXT NOT NULL,                  -- "redirected"
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (conversation_id, linked_id)
    );
    CREATE INDEX conversation_links_back ON conversation_links (linked_id);

    -- Which canned link went into which conversation: link suggestion learns from it.
    CREATE TABLE canned_uses (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        canned          TEXT NOT NULL,
        link            TEXT,
        context         TEXT NOT NULL,                  -- what the person had said, cut
        at              INTEGER NOT NULL
    );
    CREATE INDEX canned_uses_by_time ON canned_uses (at);
    """,
    # 3: one process at a time polls and sends (several inboxes may share one store)
    """
    CREATE TABLE leases (
        name            TEXT PRIMARY KEY,               -- "engine"
        owner           TEXT NOT NULL,                  -- host:pid:nonce of the holder
        host            TEXT NOT NULL,
        pid             INTEGER NOT NULL,
        acquired_at     INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL
    );

    -- Bumped by every write but a lease renewal: another inbox on this store reloads when it
    -- moves (SQLite's data_version would also move for lease renewals and our own writes).
    CREATE TABLE content_version (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        version         INTEGER NOT NULL
    );
    INSERT INTO content_version (id, version) VALUES (1, 0);
    """,
    # 4: the text is stored sanitized, so whether decoding removed hidden characters from it
    # (escape sequences, BiDi controls, zero-width) must be kept beside it for the reader
    """
    ALTER TABLE messages ADD COLUMN hidden_characters INTEGER NOT NULL DEFAULT 0;
    """,
    # 5: search. The index reads the text from `messages` (no second copy); ingest feeds it per
    # batch. Accents and case fold (cafe finds café).
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, title, content = 'messages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts (rowid, text, title) SELECT id, text, title FROM messages;
    """,
    # 6: search by language without a text term (lang:de has:link): the messages of one
    # language, newest first. A handful of languages, each growing at its end: cheap to keep.
    """
    CREATE INDEX messages_by_language ON messages (language);
    """,
    # 7: screening at ingest (rules, spam, priority) and muting. Priority comes after "needs a reply"
    # in the view order, so the index that pages the views is rebuilt with it.
    """
    ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;   -- 1 high, -1 low
    ALTER TABLE conversations ADD COLUMN priority_reason TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;      -- no bell, never reopens
    DROP INDEX conversations_by_view;
    CREATE INDEX conversations_by_view
        ON conversations (state, needs_reply DESC, priority DESC, last_activity DESC, id DESC);

    -- Wrote before in a conversation that is not spam: the spam filter trusts them more.
    ALTER TABLE authors ADD COLUMN known INTEGER NOT NULL DEFAULT 0;
    UPDATE authors SET known = 1
        WHERE id IN (SELECT author_id FROM conversations WHERE state != 'spam' AND author_id IS NOT NULL);

    -- What the spam filter learned from the manager's marks (SpamMarks.to_bytes); `version`
    -- moves with each mark, so another process reloads it before its next ingest.
    CREATE TABLE spam_marks (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        data    BLOB NOT NULL
    );

    -- What rules did or suggest that has no column of its own (tags, assignment, snooze, a
    -- canned reply): kept until the states/team store takes over the first three.
    CREATE TABLE rule_actions (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        rule            TEXT NOT NULL,
        action          TEXT NOT NULL,                  -- tag, assign, snooze, canned
        value           TEXT NOT NULL,
        at              INTEGER NOT NULL
    );
    CREATE INDEX rule_actions_by_conversation ON rule_actions (conversation_id);
    """,
    # 8: states and time, tags, notes, assignment. Conversations we answered last wait on the
    # person (pending) rather than sit in the Inbox; a snooze wakes at `snoozed_until`.
    """
    ALTER TABLE conversations ADD COLUMN snoozed_until INTEGER;      -- ms; set while snoozed
    ALTER TABLE conversations ADD COLUMN assignee TEXT NOT NULL DEFAULT '';  -- a team member, '' = nobody
    ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '';      -- sorted, space-separated (the row shows them)
    -- The snoozes due to wake, found without reading the rest.
    CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE state = 'snoozed';
    CREATE INDEX conversations_by_assignee ON conversations (assignee) WHERE assignee != '';

    -- One row per tag of a conversation: completion and counts read this, not every summary.
    CREATE TABLE conversation_tags (
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        tag             TEXT NOT NULL,
        PRIMARY KEY (conversation_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX conversation_tags_by_tag ON conversation_tags (tag);

    -- Internal notes: shown in the thread among the messages, never sent.
    CREATE TABLE notes (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        at              INTEGER NOT NULL,
        author          TEXT NOT NULL,
        text            TEXT NOT NULL
    );
    CREATE INDEX notes_by_conversation ON notes (conversation_id, at);

    UPDATE conversations SET state = 'pending' WHERE state = 'open' AND needs_reply = 0;
    """,
    # 9: contacts across channels. Accounts that the platforms prove are one person share a
    # contact (authors.contact_id; NULL: a contact of one). Every link and unlink is kept with
    # who and why; pairs the manager separated are never joined again automatically.
    """
    CREATE TABLE contacts (
        id          INTEGER PRIMARY KEY,
        note        TEXT NOT NULL DEFAULT '',           -- the manager's, plain text
        created_at  INTEGER NOT NULL
    );
    ALTER TABLE authors ADD COLUMN contact_id INTEGER REFERENCES contacts (id);
    CREATE INDEX authors_by_contact ON authors (contact_id) WHERE contact_id IS NOT NULL;

    -- What each platform proves an account owns (normalized, see ecoinbox.contacts).
    CREATE TABLE author_proofs (
        proof       TEXT NOT NULL,
        author_id   INTEGER NOT NULL REFERENCES authors (id),
        PRIMARY KEY (proof, author_id)
    ) WITHOUT ROWID;

    CREATE TABLE contact_events (
        id          INTEGER PRIMARY KEY,
        contact_id  INTEGER,                            -- the contact it joined or left
        author_id   INTEGER NOT NULL REFERENCES authors (id),
        other_id    INTEGER REFERENCES authors (id),    -- linked with / unlinked from
        at          INTEGER NOT NULL,
        actor       TEXT NOT NULL,                      -- "proof" or the manager
        action      TEXT NOT NULL,                      -- "linked", "unlinked", "note"
        reason      TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX contact_events_by_author ON contact_events (author_id, at);

    -- Accounts the manager said are not one person: proofs never join them again.
    CREATE TABLE contact_apart (
        author_id   INTEGER NOT NULL REFERENCES authors (id),
        other_id    INTEGER NOT NULL REFERENCES authors (id),
        PRIMARY KEY (author_id, other_id)
    ) WITHOUT ROWID;

    -- A person's conversations: every message they wrote, on any channel.
    CREATE INDEX messages_by_author ON messages (author_id);
    """,
    # 10: what real servers taught: who else a post addresses, comments held for moderation,
    # when a post was seen deleted (its text is purged after [store] purge_deleted_after),
    # replies that approve their held parent first.
    """
    ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';  -- newline-separated handles
    ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN deleted_at INTEGER;                 -- ms; when we saw it deleted
    ALTER TABLE outbox ADD COLUMN approve_parent INTEGER NOT NULL DEFAULT 0;
    -- The inbox marks direct messages and held comments on their row: one probe each.
    CREATE INDEX messages_direct ON messages (conversation_id) WHERE visibility = 'direct';
    CREATE INDEX messages_held ON messages (conversation_id) WHERE held = 1;
    -- The purge of deleted posts' text finds them without a scan.
    CREATE INDEX messages_deleted ON messages (deleted_at) WHERE deleted = 1;
    """,
    # 11: what the manager is typing, kept as it is typed: a reply box, a redirect, a note or a
    # new topic survives a quit, a dropped connection or a kill -9, one per conversation and kind.
    """
    CREATE TABLE drafts (
        conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
        kind             TEXT NOT NULL,                 -- reply, redirect, note, topic
        text             TEXT NOT NULL,
        parent_remote_id TEXT,                          -- the message a reply answers
        updated_at       INTEGER NOT NULL,              -- ms
        PRIMARY KEY (conversation_id, kind)
    ) WITHOUT ROWID;
    """,
    # 12: how the manager addressed a reply beyond its text: a mail's To, Cc and Subject as
    # edited in the reply box, and a visibility wider than its parent's, confirmed.
    """
    ALTER TABLE outbox ADD COLUMN to_addresses TEXT NOT NULL DEFAULT '';  -- newline-separated; '': default
    ALTER TABLE outbox ADD COLUMN cc_addresses TEXT NOT NULL DEFAULT '';  -- newline-separated
    ALTER TABLE outbox ADD COLUMN subject TEXT;                           -- NULL: "Re:" the parent's
    ALTER TABLE outbox ADD COLUMN wider INTEGER NOT NULL DEFAULT 0;       -- confirmed wider than the parent
    """,
    # 13: a conversation's subject (a mail's, a topic's or a post's title) in its row: the list
    # shows it without reading a message per row (nor a damaged messages table).
    """
    ALTER TABLE conversations ADD COLUMN subject TEXT NOT NULL DEFAULT '';
    UPDATE conversations SET subject = coalesce((
        SELECT m.title FROM messages m WHERE m.conversation_id = conversations.id
        ORDER BY m.created_at, m.id LIMIT 1
    ), '');
    """,
    # 14: filtered searches at a million messages. Each index keeps the ids in order within its
    # key, so a search walks one backwards from the newest match and stops at a page: a language
    # and a channel together (lang:nl channel:blog), a channel alone, and dates (after:3d on a
    # store with nothing recent finds that out in one lookup instead of reading every message).
    # All grow at their ends as messages arrive in time order: cheap to keep at ingest.
    """
    CREATE INDEX messages_by_language_channel ON messages (language, channel);
    CREATE INDEX messages_by_channel ON messages (channel);
    CREATE INDEX messages_by_created ON messages (created_at);
    """,
    # 15: a before: search at a million messages. The newest id of each day's messages (UTC days
    # of created_at) bounds the ids of everything before a date, so the walk down the ids starts
    # there instead of reading every newer message (820k for before:300d). A message polled late
    # (a day older than the newest day but one: an old parent fetched today) would raise its
    # day's bound to the newest ids: it is kept apart in late_messages, which a before: search
    # reads first (a day past tomorrow, a clock gone wrong, does not make every message late).
    # Kept by the ingest, the one way messages arrive, once per batch (store.ingest.DAY_BOUNDS).
    """
    CREATE TABLE message_days (day INTEGER PRIMARY KEY, max_id INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE late_messages (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL);
    CREATE INDEX late_messages_by_created ON late_messages (created_at);
    CREATE TEMP TABLE message_order AS
        SELECT id, created_at, created_at / 86400000 AS day,
               max(created_at / 86400000) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING
                                                AND 1 PRECEDING) AS newest
        FROM messages;
    INSERT INTO late_messages (id, created_at)
        SELECT id, created_at FROM message_order WHERE day < newest - 1;
    INSERT INTO message_days (day, max_id)
        SELECT day, max(id) FROM message_order WHERE newest IS NULL OR day >= newest - 1 GROUP BY day;
    DROP TABLE message_order;
    """,
    # 16: what the manager asked a platform to do with a message (hide it, as spam or not, or
    # show it again), written with the key's state change and carried out by the engine.
    """
    CREATE TABLE IF NOT EXISTS platform_actions (
        id              INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id),
        channel         TEXT NOT NULL,
        remote_id       TEXT NOT NULL,
        action          TEXT NOT NULL,                 -- hide, spam, unhide
        state           TEXT NOT NULL,                 -- queued, running, done, failed, cancelled, skipped
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_at         INTEGER NOT NULL,              -- ms: due, or (running) when the claim lapses
        created_at      INTEGER NOT NULL,
        actor           TEXT NOT NULL,
        error           TEXT
    );
    CREATE INDEX IF NOT EXISTS platform_actions_waiting ON platform_actions (channel, remote_id, state);
    """,
    # 17: migration 15 first kept its day bounds by triggers, a row at a time (the store's ingest
    # took 45% longer); the ingest keeps them once per batch now.
    """
    DROP TRIGGER IF EXISTS messages_days_insert;
    DROP TRIGGER IF EXISTS messages_days_date;
    DROP TRIGGER IF EXISTS messages_days_delete;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
