"""The channels' figures (SQLite's steps 13 and 15): what Zalo delivered or handed to SMS,
the e-mail copies sent and failed, and the parts of an SMS accepted after its notice was
settled, kept by triggers beside those of `figures_schema`, with its helpers and in the
same two dialects. Released steps' text never changes."""

from __future__ import annotations

from gateway.store.dialect import SQLITE, Dialect
from gateway.store.figures_schema import local_day, notice, procedure_of

# The per-channel figures (step 13): what each channel carried, beside figures_schema's.
CHANNEL_COLUMNS: tuple[str, ...] = (
    "zalo_delivered", "zalo_fallbacks", "emails_sent", "emails_failed",
)  # fmt: skip


def _bump(column: str, row: str, d: Dialect) -> str:
    """Add one to `column` of the figures row of `row` (a message or an e-mail)."""
    return f"""INSERT INTO figures (day, agency, procedure_key, {column})
            VALUES ({row}.figures_day, {row}.agency, COALESCE({row}.procedure_key, ''), 1)
            ON CONFLICT (day, agency, procedure_key) DO UPDATE SET {column} = \
{"figures." if d.postgresql else ""}{column} + 1;"""


_ADD_CHANNEL_COLUMNS = "".join(
    f"ALTER TABLE figures ADD COLUMN {c} INTEGER NOT NULL DEFAULT 0;" for c in CHANNEL_COLUMNS
)
def channel_triggers(d: Dialect) -> str:
    """The figures of what Zalo delivered or handed to SMS, and of the e-mails."""
    return "\n    ".join((
        d.trigger(
            "figures_zalo_delivered", "AFTER UPDATE OF state ON", "messages",
            f"""NEW.channel = 'zalo' AND NEW.state = 'delivered' AND OLD.state != 'delivered'
             AND {notice("NEW")}""",
            f"        {_bump('zalo_delivered', 'NEW', d)}",
        ),
        d.trigger(
            "figures_zalo_fallback", "AFTER UPDATE OF channel ON", "messages",
            f"OLD.channel = 'zalo' AND NEW.channel = 'sms' AND {notice('NEW')}",
            f"        {_bump('zalo_fallbacks', 'NEW', d)}",
        ),
        d.trigger("figures_email_insert", "AFTER INSERT ON", "emails", None, f"""\
        UPDATE emails SET procedure_key = {procedure_of("NEW")},
                          figures_day = {local_day("NEW.created_at", d=d)} WHERE id = NEW.id;"""),
        d.trigger(
            "figures_email_sent", "AFTER UPDATE OF state ON", "emails",
            "NEW.state = 'delivered' AND OLD.state != 'delivered'",
            f"        {_bump('emails_sent', 'NEW', d)}",
        ),
        d.trigger(
            "figures_email_failed", "AFTER UPDATE OF state ON", "emails",
            "NEW.state IN ('failed', 'expired') AND OLD.state NOT IN ('failed', 'expired')",
            f"        {_bump('emails_failed', 'NEW', d)}",
        ),
    ))  # fmt: skip


CHANNELS_MIGRATION = f"""
    ALTER TABLE messages ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
    ALTER TABLE messages ADD COLUMN zns TEXT;
    ALTER TABLE messages ADD COLUMN chat_user TEXT;
    ALTER TABLE messages ADD COLUMN channel_id TEXT;
    ALTER TABLE messages ADD COLUMN fallback_at REAL;
    DROP INDEX messages_queue;
    CREATE INDEX messages_queue ON messages (channel, priority, not_before)
        WHERE state = 'queued';
    CREATE INDEX messages_fallback ON messages (fallback_at)
        WHERE state = 'submitted' AND fallback_at IS NOT NULL;
    CREATE TABLE emails (
        id INTEGER PRIMARY KEY,
        agency TEXT NOT NULL,
        ref TEXT NOT NULL,
        event_id TEXT,
        receipt_no TEXT,
        kind TEXT NOT NULL,
        procedure TEXT,
        address TEXT,
        sender TEXT NOT NULL,
        subject TEXT,
        body TEXT,
        qr TEXT,
        state TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        procedure_key TEXT,
        figures_day INTEGER,
        UNIQUE (agency, ref)
    );
    CREATE INDEX emails_queue ON emails (not_before) WHERE state = 'queued';
    CREATE INDEX emails_kept ON emails (created_at) WHERE address IS NOT NULL;
    {_ADD_CHANNEL_COLUMNS}
    {channel_triggers(SQLITE)}
"""


def late_parts_trigger(d: Dialect) -> str:
    """Step 15: an SMS whose parts the SMSC accepted after its notice was settled by Zalo
    (Zalo's receipt came while the fallback SMS's submit_sm was out): the message's state
    no longer changes, so the parts are counted as they are recorded; they were paid for."""
    return d.trigger(
        "figures_parts_of_settled", "AFTER INSERT ON", "parts",
        """(SELECT state FROM messages WHERE id = NEW.message_id)
             IN ('delivered', 'undeliverable', 'expired', 'failed')""",
        """\
        UPDATE figures SET segments = segments + 1
            WHERE (day, agency, procedure_key) =
                  (SELECT figures_day, agency, COALESCE(procedure_key, '')
                   FROM messages WHERE id = NEW.message_id);""",
    )  # fmt: skip


LATE_PARTS_MIGRATION = f"\n    {late_parts_trigger(SQLITE)}\n"
