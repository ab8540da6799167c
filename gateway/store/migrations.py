"""The store's schema as the steps that made it: step N takes a store from version N - 1
to N (`PRAGMA user_version`), in one transaction. A released step's text never changes:
stores in the field were made by it; a change is a new step at the end."""

from __future__ import annotations

from gateway.store import figures_channels_schema, figures_schema
from gateway.store.dialect import SQLITE


# The claims' step, SQLite's 16th and PostgreSQL's 2nd (gateway/store/pg_schema.py), the same
# text but for the epochs' type. A daemon's `host` is shown; its `machine` (boot id) tells
# two machines of one host name apart (gateway/store/daemons.py). A claimed row is one
# being worked (an outcome releases it): the claims' indexes stay small.
def claims_step(epoch: str) -> str:
    """The step that lets several daemons share one store, with `epoch` the engine's type
    of a time in seconds since the epoch."""
    return f"""
    CREATE TABLE daemons (
        name TEXT PRIMARY KEY,
        instance TEXT NOT NULL,
        host TEXT NOT NULL,
        machine TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at {epoch} NOT NULL,
        seen_at {epoch} NOT NULL
    );
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until {epoch} NOT NULL
    );
    ALTER TABLE messages ADD COLUMN claimed_by TEXT;
    ALTER TABLE emails ADD COLUMN claimed_by TEXT;
    ALTER TABLE status_out ADD COLUMN claimed_by TEXT;
    CREATE INDEX messages_claimed ON messages (claimed_by) WHERE claimed_by IS NOT NULL;
    CREATE INDEX emails_claimed ON emails (claimed_by) WHERE claimed_by IS NOT NULL;
    CREATE INDEX status_out_claimed ON status_out (claimed_by) WHERE claimed_by IS NOT NULL;
"""


CLAIMS_MIGRATION = claims_step("REAL")

MIGRATIONS: tuple[str, ...] = (
    # 1: the mirror, the messages, their parts and the status outbox.
    """
    CREATE TABLE dossiers (
        receipt_key TEXT PRIMARY KEY,
        receipt_no TEXT NOT NULL,
        agency TEXT NOT NULL,
        procedure TEXT NOT NULL,
        procedure_code TEXT,
        phone TEXT,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        due_date TEXT,
        same_day INTEGER NOT NULL DEFAULT 0,
        occurred_at TEXT NOT NULL,
        finished_on TEXT
    );
    CREATE INDEX dossiers_due ON dossiers (due_date);
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        applied INTEGER NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        agency TEXT NOT NULL,
        ref TEXT NOT NULL,
        event_id TEXT,
        receipt_no TEXT,
        kind TEXT NOT NULL,
        procedure TEXT,
        phone TEXT,
        source TEXT NOT NULL,
        text TEXT,
        priority INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        segments INTEGER NOT NULL DEFAULT 0,
        concat_ref INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (agency, ref)
    );
    CREATE INDEX messages_queue ON messages (priority, not_before) WHERE state = 'queued';
    CREATE TABLE parts (
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        smsc_id TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'submitted',
        PRIMARY KEY (message_id, seq)
    );
    CREATE TABLE part_keys (
        key TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        seq INTEGER NOT NULL
    );
    CREATE INDEX part_keys_key ON part_keys (key);
    CREATE TABLE early_receipts (
        key TEXT NOT NULL,
        rid TEXT NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        at REAL NOT NULL
    );
    CREATE INDEX early_receipts_key ON early_receipts (key);
    CREATE TABLE status_out (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        agency TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE apology_runs (
        run_day TEXT PRIMARY KEY,
        due_date TEXT NOT NULL,
        queued INTEGER NOT NULL,
        at REAL NOT NULL
    );
    """,
    # 2: every MO, stored before its deliver_sm_resp, with what became of it.
    """
    CREATE TABLE mo_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        sender TEXT NOT NULL,
        shortcode TEXT NOT NULL,
        text TEXT NOT NULL,
        keyword TEXT,
        outcome TEXT NOT NULL,
        reply_ref TEXT
    );
    CREATE INDEX mo_log_at ON mo_log (at);
    """,
    # 3: a finished dossier is judged by the day it first finished, whatever the finish
    # (returned, rejected, withdrawn as well as result_ready). Rows finished before this
    # version without a day get the day of the event that holds them: the latest, so
    # never earlier than the true day.
    """
    UPDATE dossiers SET finished_on = substr(occurred_at, 1, 10)
    WHERE finished_on IS NULL
      AND status IN ('result_ready', 'returned', 'rejected', 'withdrawn');
    """,
    # 4: receipt numbers are unique within one agency only, so the mirror holds each
    # dossier under (receipt number, agency); the order serves lookups by number alone
    # (MCKH) and by both (intake).
    """
    CREATE TABLE dossiers_v4 (
        receipt_key TEXT NOT NULL,
        receipt_no TEXT NOT NULL,
        agency TEXT NOT NULL,
        procedure TEXT NOT NULL,
        procedure_code TEXT,
        phone TEXT,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        due_date TEXT,
        same_day INTEGER NOT NULL DEFAULT 0,
        occurred_at TEXT NOT NULL,
        finished_on TEXT,
        PRIMARY KEY (receipt_key, agency)
    );
    INSERT INTO dossiers_v4 SELECT * FROM dossiers;
    DROP TABLE dossiers;
    ALTER TABLE dossiers_v4 RENAME TO dossiers;
    CREATE INDEX dossiers_due ON dossiers (due_date);
    """,
    # 5: the receipt sweep finds messages still waiting for a receipt, and receipts
    # that matched nothing for minutes, by index.
    """
    CREATE INDEX messages_submitted ON messages (updated_at) WHERE state = 'submitted';
    CREATE INDEX early_receipts_at ON early_receipts (at);
    """,
    # 6: an event id identifies an event within its agency, as a job id does: two
    # agencies' software numbering events alike must not make one's events repeats of
    # the other's.
    """
    CREATE TABLE events_v6 (
        event_id TEXT NOT NULL,
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        applied INTEGER NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (agency, event_id)
    );
    INSERT INTO events_v6 SELECT * FROM events;
    DROP TABLE events;
    ALTER TABLE events_v6 RENAME TO events;
    """,
    # 7: health without scanning the messages: messages by state kept by triggers in the
    # same transaction as every change, and the oldest waiting one found by an index.
    """
    CREATE INDEX messages_state ON messages (state, created_at);
    CREATE TABLE message_states (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO message_states SELECT state, COUNT(*) FROM messages GROUP BY state;
    CREATE TRIGGER message_states_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_states VALUES (NEW.state, 1)
            ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER message_states_update AFTER UPDATE OF state ON messages
        WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE message_states SET n = n - 1 WHERE state = OLD.state;
        INSERT INTO message_states VALUES (NEW.state, 1)
            ON CONFLICT (state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER message_states_delete AFTER DELETE ON messages BEGIN
        UPDATE message_states SET n = n - 1 WHERE state = OLD.state;
    END;
    """,
    # 8: the notice a dossier still owes for its current status, because it was refused for
    # want of a usable phone: a later event of the same status with a good number sends it.
    # MO replies found by the MO that asked, for the report's lookups answered. A digest
    # of each event's and job's content, to tell a repeated id's redelivery from its reuse
    # for other content (gateway/repeats.py); personal data, cleared by the purge, which
    # finds the events still holding one by their own index.
    """
    ALTER TABLE dossiers ADD COLUMN notice_owed TEXT;
    CREATE INDEX mo_log_reply ON mo_log (reply_ref) WHERE reply_ref IS NOT NULL;
    ALTER TABLE events ADD COLUMN digest TEXT;
    CREATE INDEX events_digest ON events (received_at) WHERE digest IS NOT NULL;
    ALTER TABLE messages ADD COLUMN digest TEXT;
    """,
    # 9: every part is also keyed by its id as written (`s:` without leading zeros), so a
    # receipt prefers the part with the same id string over one whose id only reads as
    # the same number in the other base. Ids keyed only by number until now (all hex or
    # all decimal digits, within the lengths `message_id_keys` reads) get that key.
    """
    INSERT INTO part_keys (key, message_id, seq)
    SELECT 's:' || ltrim(id, '0'), message_id, seq
    FROM (SELECT lower(trim(trim(trim(smsc_id), char(0)))) AS id, message_id, seq FROM parts)
    WHERE id != ''
      AND ((length(id) <= 32 AND id NOT GLOB '*[^0-9a-f]*')
        OR (length(id) <= 40 AND id NOT GLOB '*[^0-9]*'));
    """,
    # 10: the SMSC link a message goes by (several links: gateway/settings/links.py), and
    # receipts matched per link, since ids are unique only within one SMSC: every part key
    # carries its link (`@link`). What was sent before this step went by the one `smpp:`
    # section, the link `default`.
    """
    ALTER TABLE messages ADD COLUMN link TEXT;
    UPDATE messages SET link = 'default'
        WHERE id IN (SELECT DISTINCT message_id FROM parts);
    UPDATE part_keys SET key = key || '@default';
    UPDATE early_receipts SET key = key || '@default', rid = rid || '@default';
    """,
    # 11: the reconciliation figures per agency × procedure × local day, kept by triggers in
    # the same transaction as every change of a message or a dossier, the history until now
    # counted in (gateway/store/figures_schema.py).
    figures_schema.MIGRATION,
    # 12: no query the daemon runs scans a table that grows with the traffic
    # (tests/store/test_query_plans.py): receipts arrived before their submit_sm_resp
    # found by receipt id, the daily purge finding a message's part keys by message and
    # the dossiers still holding a phone number by day, rather than reading them all.
    """
    CREATE INDEX IF NOT EXISTS early_receipts_rid ON early_receipts (rid);
    CREATE INDEX IF NOT EXISTS part_keys_message ON part_keys (message_id);
    CREATE INDEX IF NOT EXISTS dossiers_phone_kept ON dossiers (occurred_at)
        WHERE phone IS NOT NULL;
    """,
    # 13: channels beside SMS (gateway/domain/channel.py). A message goes by `channel`
    # ('sms' for all before this step); a Zalo notice carries its ZNS template and
    # parameters (`zns`, JSON), a reply in the Zalo chat its user (`chat_user`); Zalo's id
    # for what it accepted (`channel_id`) and when the SMS goes if Zalo has not confirmed
    # it by then (`fallback_at`, the durable fallback timer). The queue is read per
    # channel. E-mail copies of notices have their own rows and states (`emails`). The
    # figures count notices delivered by Zalo, notices Zalo handed to SMS and e-mails.
    figures_channels_schema.CHANNELS_MIGRATION,
    # 14: a dossier's notices refused (for their number) found by dossier and kind, so that
    # a notice sent again once its number is fixed gets no second e-mail copy when the
    # refused one had its copy.
    """
    CREATE INDEX IF NOT EXISTS messages_refused ON messages (agency, receipt_no, kind)
        WHERE state = 'rejected';
    """,
    # 15: the parts of an SMS accepted after Zalo's receipt settled its notice count in the
    # figures' segments (gateway/store/figures_schema.py).
    figures_channels_schema.LATE_PARTS_MIGRATION,
    # 16: several daemons on one store (gateway/store/daemons.py, claims.py, leases.py): the
    # daemons and when each was last seen, the name of the daemon working each queued
    # message, letter and status to publish, and the leases of the once-at-a-time jobs.
    CLAIMS_MIGRATION,
    # 17: a message's figures day and procedure key written by its own INSERT
    # (gateway/store/figures_schema.py `inserted_keys`), not by a second write of the row
    # from the insert trigger: what every queued message costs the store, most of all an
    # apology run's hundred thousand.
    f"""
    DROP TRIGGER figures_message_insert;
    {figures_schema.message_insert_trigger(SQLITE)}
    """,
)
