"""The reconciliation figures' schema: daily figures kept by triggers, per agency ×
procedure × hour of UTC.

Why triggers: every write that changes a message or a dossier (intake, the sender, the
receipt tracker, the receipt sweep, the MO log, the apology run) then updates the figures
in its own transaction, by construction, with no Python on those paths; a purge, which
only forgets numbers and texts, leaves them as they are.

Why an hour of UTC (`hour`, hours since the epoch) rather than a local day: SQLite knows
no time zones, and the zone is configuration, which may change; any zone whose offset is
a whole number of hours groups hours into its local days when read
(`figures.Figures`).

A message counts once, in the bucket of the hour it was created, under its final state:
its insert adds what its state counts for, and every change of state, reason or segments
takes away what the old row counted for and adds what the new one does. A dossier counts
as received when the mirror first holds it (the hour of that event's `occurred_at`) and as
resolved when it first enters `result_ready` (or `returned` without a `result_ready` seen
before it), in the hour of that event.

`MIGRATION` is one step of `schema.MIGRATIONS`: once released its text never changes.
"""

from __future__ import annotations

# What a message counts for, in the order of the figures' columns (after received and
# resolved, which only dossiers count for).
MESSAGE_COLUMNS: tuple[str, ...] = (
    "queued",
    "delivered",
    "landline",
    "invalid_number",
    "no_number",
    "undeliverable",
    "expired",
    "failed",
    "segments",
)
# The reasons a notice is not delivered, as the figures name them.
NOT_DELIVERED: tuple[str, ...] = (
    "landline",
    "invalid_number",
    "no_number",
    "undeliverable",
    "expired",
    "failed",
)
COLUMNS: tuple[str, ...] = ("received", "resolved", *MESSAGE_COLUMNS, "lookups")

# States in which a message may have had parts accepted by the SMSC: those parts are the
# segments billed (a message that expired or failed before any was accepted cost nothing;
# one that failed after some did cost those).
_SENT = "'submitted', 'delivered', 'undeliverable', 'expired', 'failed'"
# States a notice enters the store in without being queued (refused, not sent).
_NOT_QUEUED = "'rejected', 'skipped'"
RESOLVED = "'result_ready', 'returned'"


def not_delivered(x: str) -> str:
    """The reason (one of NOT_DELIVERED) the message `x` (a row alias) was not delivered,
    NULL if it was or may still be: a refusal at intake for its number by the number's
    fault (`phone: <reason> (...)`, gateway.compose.composer), any other refusal (a
    template, a text too long) `failed`, and the final states after sending as they are."""
    return f"""(CASE
        WHEN {x}.state IN ('undeliverable', 'expired', 'failed') THEN {x}.state
        WHEN {x}.state != 'rejected' THEN NULL
        WHEN {x}.reason LIKE 'phone: landline%' THEN 'landline'
        WHEN {x}.reason LIKE 'phone: missing%' THEN 'no_number'
        WHEN {x}.reason LIKE 'phone: %' THEN 'invalid_number'
        ELSE 'failed' END)"""


def notice(x: str) -> str:
    """Whether `x` is a notice to a citizen (not an MCKH reply, which counts as a lookup)."""
    return f"({x}.kind != 'mo_reply')"


def _counts(x: str) -> list[str]:
    """What message row `x` counts for, one SQL expression per MESSAGE_COLUMNS."""
    reason = not_delivered(x)
    counts = [
        f"({notice(x)} AND {x}.state NOT IN ({_NOT_QUEUED}))",
        f"({notice(x)} AND {x}.state = 'delivered')",
        *(f"({notice(x)} AND {reason} IS '{r}')" for r in NOT_DELIVERED),
        f"""(CASE WHEN {x}.state IN ({_SENT})
            THEN (SELECT COUNT(*) FROM parts WHERE message_id = {x}.id) ELSE 0 END)""",
    ]
    return counts


def _hour(epoch: str) -> str:
    return f"CAST({epoch} AS INTEGER) / 3600"


def _iso_hour(iso: str) -> str:
    """The hour of an ISO date and time with its offset; now if SQLite cannot read it, so
    that a dossier is never refused for the figures' sake."""
    return _hour(f"COALESCE(strftime('%s', {iso}), strftime('%s', 'now'))")


_MESSAGE_COLS = ", ".join(MESSAGE_COLUMNS)
_ADD = ", ".join(f"{c} = {c} + excluded.{c}" for c in COLUMNS)
_NAME = "procedure_name = COALESCE(excluded.procedure_name, procedure_name)"
_UPSERT = f"ON CONFLICT (hour, agency, procedure_key) DO UPDATE SET {_ADD}, {_NAME}"


def _procedure_of(m: str) -> str:
    """The procedure key of message `m`: its dossier's code, or its name where the dossier
    has none (an MCKH reply names its dossier by receipt number), else the message's."""
    return f"""COALESCE((SELECT COALESCE(NULLIF(d.procedure_code, ''), d.procedure)
        FROM dossiers AS d
        WHERE d.receipt_key = upper(trim({m}.receipt_no)) AND d.agency = {m}.agency),
        {m}.procedure)"""


def _name_of(m: str) -> str:
    return f"""COALESCE({m}.procedure, (SELECT d.procedure FROM dossiers AS d
        WHERE d.receipt_key = upper(trim({m}.receipt_no)) AND d.agency = {m}.agency))"""


def _held(x: str, where: str = "") -> str:
    return f"""EXISTS (SELECT 1 FROM dossiers AS h
        WHERE h.receipt_key = {x}.receipt_key AND h.agency = {x}.agency{where})"""


_ANSWERED = "EXISTS (SELECT 1 FROM mo_log WHERE reply_ref = m.ref AND outcome = 'answered')"
_LOOKUP = f"(m.kind = 'mo_reply' AND {_ANSWERED})"
_DELTA = ", ".join(f"{n} - {o}" for n, o in zip(_counts("NEW"), _counts("OLD"), strict=True))
_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("state", "reason", "segments"))
_FIRST_RESOLVED = (
    f"(NEW.status IN ({RESOLVED}) AND NOT {_held('NEW', f' AND h.status IN ({RESOLVED})')})"
)

MIGRATION = f"""
    ALTER TABLE messages ADD COLUMN procedure_key TEXT;
    UPDATE messages AS m SET procedure_key = {_procedure_of("m")};
    CREATE TABLE figures (
        hour INTEGER NOT NULL,
        agency TEXT NOT NULL,
        procedure_key TEXT NOT NULL,
        procedure_name TEXT,
        {", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in COLUMNS)},
        PRIMARY KEY (hour, agency, procedure_key)
    ) WITHOUT ROWID;
    INSERT INTO figures (hour, agency, procedure_key, procedure_name, {_MESSAGE_COLS}, lookups)
        SELECT {_hour("m.created_at")}, m.agency, COALESCE(m.procedure_key, ''),
               MAX({_name_of("m")}), {", ".join(f"SUM({c})" for c in _counts("m"))},
               SUM({_LOOKUP})
        FROM messages AS m WHERE true
        GROUP BY 1, 2, 3;
    INSERT INTO figures (hour, agency, procedure_key, procedure_name, received)
        SELECT COALESCE({_hour("e.first")}, {_iso_hour("d.occurred_at")}), d.agency,
               COALESCE(NULLIF(d.procedure_code, ''), d.procedure), MAX(d.procedure), COUNT(*)
        FROM dossiers AS d LEFT JOIN
            (SELECT agency, receipt_key, MIN(received_at) AS first FROM events
             GROUP BY agency, receipt_key) AS e
            ON e.agency = d.agency AND e.receipt_key = d.receipt_key
        WHERE true GROUP BY 1, 2, 3 {_UPSERT};
    INSERT INTO figures (hour, agency, procedure_key, procedure_name, resolved)
        SELECT CASE WHEN d.finished_on IS NULL THEN {_iso_hour("d.occurred_at")}
                    ELSE {_iso_hour("d.finished_on || 'T12:00:00Z'")} END,
               d.agency, COALESCE(NULLIF(d.procedure_code, ''), d.procedure), MAX(d.procedure),
               COUNT(*)
        FROM dossiers AS d WHERE d.status IN ({RESOLVED}) GROUP BY 1, 2, 3 {_UPSERT};
    CREATE TRIGGER figures_message_insert AFTER INSERT ON messages BEGIN
        UPDATE messages SET procedure_key = {_procedure_of("NEW")} WHERE id = NEW.id;
        INSERT INTO figures (hour, agency, procedure_key, procedure_name, {_MESSAGE_COLS},
                             lookups)
            SELECT {_hour("m.created_at")}, m.agency, COALESCE(m.procedure_key, ''),
                   {_name_of("m")}, {", ".join(_counts("m"))}, {_LOOKUP}
            FROM messages AS m WHERE m.id = NEW.id {_UPSERT};
    END;
    CREATE TRIGGER figures_message_update AFTER UPDATE OF state, reason, segments ON messages
        WHEN {_CHANGED} BEGIN
        INSERT INTO figures (hour, agency, procedure_key, procedure_name, {_MESSAGE_COLS})
            VALUES ({_hour("NEW.created_at")}, NEW.agency, COALESCE(NEW.procedure_key, ''),
                    NULL, {_DELTA}) {_UPSERT};
    END;
    CREATE TRIGGER figures_dossier BEFORE INSERT ON dossiers
        WHEN NOT {_held("NEW")} OR {_FIRST_RESOLVED} BEGIN
        INSERT INTO figures (hour, agency, procedure_key, procedure_name, received, resolved)
            VALUES ({_iso_hour("NEW.occurred_at")}, NEW.agency,
                    COALESCE(NULLIF(NEW.procedure_code, ''), NEW.procedure), NEW.procedure,
                    NOT {_held("NEW")}, {_FIRST_RESOLVED}) {_UPSERT};
    END;
"""
