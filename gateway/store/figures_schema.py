"""The reconciliation figures' schema: daily figures kept by triggers, per agency ×
procedure × local day.

Why triggers: every write that changes a message or a dossier (intake, the sender, the
receipt tracker, the receipt sweep, the MO log, the apology run) then updates the figures
in its own transaction, by construction, with no Python on those paths; a purge, which
only forgets numbers and texts, leaves them as they are.

Why local days cut at a recorded offset (`figures_zone`, seconds east of UTC): SQLite
knows no time zones, and a year read per day must be a year of day rows, not of hours
(a large province's year is millions of agency × procedure × hour rows, too many to read
in a second). The daemon records its configured zone's offset at start-up
(`figures.FigureDays`); the step records Vietnam's, the embedded default. A zone with
summer time has its days cut at the offset in force when the daemon started.

A message counts once, in the day it was created, under its final state: its insert adds
what its state counts for, and every change of state, reason or segments takes away what
the old row counted for and adds what the new one does. It keeps the procedure key and
the day it was counted under (`messages.procedure_key`, `figures_day`), so that a later
change of its dossier's code, or of the zone, cannot move its counts.

A dossier counts as received when the mirror first holds it (the day of that event's
`occurred_at`) and as resolved once, when it first enters `result_ready` (or `returned`
without a `result_ready` seen before it), on the day of that event: reopened and resolved
again it stays one dossier resolved. `figures_resolved` remembers the dossiers counted
resolved, since the mirror's row says only where a dossier is now. Intake writes every
row the mirror passes through, in order (`store.dossiers.record_intake`), so the same
events count the same however they are batched.

The step counts the history until then as live counting would have, as far as the
history tells: a dossier received on the day of the earliest bound kept on its first
event's `occurred_at` (`_FIRST_SEEN`), resolved if it is `result_ready`/`returned` now or
holds a result notice (resolved, reopened since), on its first finish day. The history
does not tell of a dossier reopened after a resolution its agency sent no notice for, nor
of one rejected or withdrawn before it was resolved (its first finish is the rejection).

`MIGRATION` is one step of `schema.MIGRATIONS`: once released its text never changes.
"""

from __future__ import annotations

from gateway.store.dialect import SQLITE, Dialect

# What a message counts for, in the order of the figures' columns (after received and
# resolved, which only dossiers count for).
# The reasons a notice is not delivered, as the figures name them.
NOT_DELIVERED: tuple[str, ...] = (
    "landline",
    "invalid_number",
    "no_number",
    "undeliverable",
    "expired",
    "failed",
)
# results_delivered: result notices delivered, what the delivered / resolved ratio reads.
MESSAGE_COLUMNS: tuple[str, ...] = (
    "queued", "delivered", "results_delivered", *NOT_DELIVERED, "segments",
)  # fmt: skip
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


def _counts(x: str, reason: str, d: Dialect = SQLITE) -> list[str]:
    """What message row `x` counts for, one SQL expression per MESSAGE_COLUMNS; `reason`
    names `not_delivered(x)` computed once by the caller (in a subquery of its own): six
    evaluations of it cost more than the rest of a row's counting."""
    counts = [
        d.number(f"({notice(x)} AND {x}.state NOT IN ({_NOT_QUEUED}))"),
        d.number(f"({notice(x)} AND {x}.state = 'delivered')"),
        d.number(f"({x}.kind = 'result' AND {x}.state = 'delivered')"),
        *(d.number(f"({notice(x)} AND {d.same(reason, repr(r))})") for r in NOT_DELIVERED),
        f"""(CASE WHEN {x}.state IN ({_SENT})
            THEN (SELECT COUNT(*) FROM parts WHERE message_id = {x}.id) ELSE 0 END)""",
    ]
    return counts


VIETNAM = 7 * 3600  # the embedded default zone, Asia/Ho_Chi_Minh


def local_day(epoch: str, offset: str | None = None, d: Dialect = SQLITE) -> str:
    """The local day (days since 1970-01-01) of a time in seconds since the epoch, cut at
    `offset` (by default the recorded zone's)."""
    return d.day(epoch, f"(SELECT {d.offset} FROM figures_zone)" if offset is None else offset)


def _iso_day(iso: str, offset: str | None = None, d: Dialect = SQLITE) -> str:
    """The local day of an ISO time with its offset; today if the engine cannot read it."""
    return local_day(d.epoch_or_now(iso), offset, d)


_MESSAGE_COLS = ", ".join(MESSAGE_COLUMNS)
_KEY = "COALESCE(NULLIF(d.procedure_code, ''), d.procedure)"  # dossier `d`'s procedure key
# The history's bound on when dossier `d`'s first event occurred, which live counting
# counts it received by: no later than that event reached the daemon (`e.first`, the
# first `received_at` of its events) nor than the last event it holds (`occurred_at`);
# the day exactly whenever the first event reached the daemon on the day it occurred.
_OCCURRED = f"CAST({SQLITE.epoch_or_now('d.occurred_at')} AS INTEGER)"
_FIRST_SEEN = f"min({_OCCURRED}, COALESCE(e.first, {_OCCURRED}))"


def _upsert(d: Dialect = SQLITE) -> str:
    """Add to the figures row already there (PostgreSQL needs its columns qualified)."""
    t = "figures." if d.postgresql else ""
    add = ", ".join(f"{c} = {t}{c} + excluded.{c}" for c in COLUMNS)
    name = f"procedure_name = COALESCE(excluded.procedure_name, {t}procedure_name)"
    return f"ON CONFLICT (day, agency, procedure_key) DO UPDATE SET {add}, {name}"


_UPSERT = _upsert()


def procedure_key(receipt_no: str, agency: str, procedure: str) -> str:
    """The procedure key of a message of `receipt_no`, `agency` and `procedure` (SQL
    expressions): its dossier's code, or its name where the dossier has none (an MCKH
    reply names its dossier by receipt number), else the message's own procedure."""
    return f"""COALESCE((SELECT COALESCE(NULLIF(d.procedure_code, ''), d.procedure)
        FROM dossiers AS d
        WHERE d.receipt_key = upper(trim({receipt_no})) AND d.agency = {agency}),
        {procedure})"""


def procedure_of(m: str) -> str:
    """The procedure key of message `m` (a row), as `procedure_key` tells it."""
    return procedure_key(f"{m}.receipt_no", f"{m}.agency", f"{m}.procedure")


# The figures' columns of a message, given with it by its INSERT (`inserted_keys`).
INSERTED_COLUMNS = "procedure_key, figures_day"


def inserted_keys(d: Dialect) -> str:
    """The values of INSERTED_COLUMNS in a message's INSERT, from four more parameters:
    its receipt_no, agency, procedure and created_at. Computed by the statement that
    writes the row, they cost no second write of it (the insert trigger's update, which
    is left for a message inserted without them)."""
    return f"{procedure_key('?', '?', '?')}, {local_day('?', d=d)}"


def _name_of(m: str) -> str:
    return f"""COALESCE({m}.procedure, (SELECT d.procedure FROM dossiers AS d
        WHERE d.receipt_key = upper(trim({m}.receipt_no)) AND d.agency = {m}.agency))"""


# The status the mirror holds for the dossier being written (NULL: not held yet), read
# once per write of a dossier.
_HELD = """(SELECT h.status FROM dossiers AS h
        WHERE h.receipt_key = NEW.receipt_key AND h.agency = NEW.agency)"""


def _lookups(where: str) -> str:
    """(day, agency, procedure key, name) once per dossier an MCKH reply of the messages
    `m` matching `where` told of: a reply whose MO the log records `answered` (a dossier
    was found, `gateway.mo.api.Outcome`) counts for every agency's dossier of the receipt
    number it is about, or, about several numbers, once for the agency it goes for. A
    reply of no agency told of no dossier (the replies to a missing or unknown number
    before the log said so)."""
    answered = """EXISTS (SELECT 1 FROM mo_log AS l
        WHERE l.reply_ref = m.ref AND l.outcome = 'answered')"""
    return f"""SELECT m.figures_day AS day, d.agency AS agency,
               COALESCE(NULLIF(d.procedure_code, ''), d.procedure) AS key,
               d.procedure AS name
        FROM messages AS m JOIN dossiers AS d ON d.receipt_key = upper(trim(m.receipt_no))
        WHERE {where} AND m.kind = 'mo_reply' AND {answered}
        UNION ALL
        SELECT m.figures_day, m.agency, COALESCE(m.procedure_key, ''), {_name_of("m")}
        FROM messages AS m
        WHERE {where} AND m.kind = 'mo_reply' AND m.receipt_no IS NULL AND m.agency != ''
          AND {answered}"""


_LOOKUP_ROWS = "INSERT INTO figures (day, agency, procedure_key, procedure_name, lookups)"


def _delta(d: Dialect) -> str:
    news, olds = _counts("NEW", "c.new_why", d), _counts("OLD", "c.old_why", d)
    return ", ".join(f"{n} - {o}" for n, o in zip(news, olds, strict=True))

_WHY_CHANGED = f"(SELECT {not_delivered('NEW')} AS new_why, {not_delivered('OLD')} AS old_why)"


def _changed(d: Dialect) -> str:
    return " OR ".join(d.differs(f"OLD.{c}", f"NEW.{c}") for c in ("state", "reason", "segments"))

_RECEIVED = "(held IS NULL)"
_COUNTED = """EXISTS (SELECT 1 FROM figures_resolved AS r
        WHERE r.agency = NEW.agency AND r.receipt_key = NEW.receipt_key)"""
_RESOLVED = f"(NEW.status IN ({RESOLVED}) AND NOT {_COUNTED})"


def _dossier_counts(d: Dialect) -> str:
    """What the dossier being written counts for, each looked up once."""
    return f"""(SELECT {_RECEIVED} AS received, {_RESOLVED} AS resolved
        FROM (SELECT {_HELD} AS held){d.alias("h")})"""


def _message_insert(d: Dialect, keys_unset: str) -> str:
    """The figures' insert trigger, setting the message's keys where `keys_unset` holds."""
    return d.trigger("figures_message_insert", "AFTER INSERT ON", "messages", None, f"""\
        UPDATE messages SET procedure_key = {procedure_of("NEW")},
                            figures_day = {local_day("NEW.created_at", d=d)} WHERE {keys_unset};
        INSERT INTO figures (day, agency, procedure_key, procedure_name, {_MESSAGE_COLS})
            SELECT m.figures_day, NEW.agency, COALESCE(m.procedure_key, ''),
                   {_name_of("NEW")}, {", ".join(_counts("NEW", "c.why", d))}
            FROM messages AS m, (SELECT {not_delivered("NEW")} AS why) AS c
            WHERE m.id = NEW.id {_upsert(d)};
        {_LOOKUP_ROWS}
            SELECT day, agency, key, name, 1
            FROM ({_lookups("NEW.kind = 'mo_reply' AND m.id = NEW.id")}){d.alias("l")} \
WHERE true {_upsert(d)};""")


def message_triggers(d: Dialect) -> str:
    """The figures of every message inserted, and of each change of state, reason, segments."""
    insert = _message_insert(d, "id = NEW.id")
    update = d.trigger(
        "figures_message_update", "AFTER UPDATE OF state, reason, segments ON", "messages",
        _changed(d), f"""\
        INSERT INTO figures (day, agency, procedure_key, procedure_name, {_MESSAGE_COLS})
            SELECT NEW.figures_day, NEW.agency, COALESCE(NEW.procedure_key, ''), NULL, \
{_delta(d)}
            FROM {_WHY_CHANGED} AS c WHERE true {_upsert(d)};""",
    )  # fmt: skip
    return f"{insert}\n    {update}"


def message_insert_trigger(d: Dialect) -> str:
    """The figures of a message inserted, from the day and procedure key its INSERT gave
    it (`inserted_keys`); a message inserted without them has them set first, as before
    (step 17 replaced the trigger of `message_triggers`, which always set them)."""
    return _message_insert(d, "id = NEW.id AND NEW.figures_day IS NULL")


def dossier_trigger(d: Dialect) -> str:
    """The figures of a dossier received, and resolved the first time."""
    resolved = d.insert_ignoring(
        f"""INSERT INTO figures_resolved
            SELECT NEW.agency, NEW.receipt_key WHERE NEW.status IN ({RESOLVED})"""
    )
    return d.trigger("figures_dossier", "BEFORE INSERT ON", "dossiers", None, f"""\
        INSERT INTO figures (day, agency, procedure_key, procedure_name, received, resolved)
            SELECT {_iso_day("NEW.occurred_at", d=d)}, NEW.agency,
                   COALESCE(NULLIF(NEW.procedure_code, ''), NEW.procedure), NEW.procedure,
                   {d.number("c.received")}, {d.number("c.resolved")}
            FROM {_dossier_counts(d)} AS c WHERE c.received OR c.resolved {_upsert(d)};
        {resolved};""")


MIGRATION = f"""
    ALTER TABLE messages ADD COLUMN procedure_key TEXT;
    ALTER TABLE messages ADD COLUMN figures_day INTEGER;
    UPDATE messages AS m SET procedure_key = {procedure_of("m")},
                             figures_day = {local_day("m.created_at", str(VIETNAM))};
    CREATE TABLE figures_zone (offset INTEGER NOT NULL);
    INSERT INTO figures_zone VALUES ({VIETNAM});
    CREATE TABLE figures (
        day INTEGER NOT NULL,
        agency TEXT NOT NULL,
        procedure_key TEXT NOT NULL,
        procedure_name TEXT,
        {", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in COLUMNS)},
        PRIMARY KEY (day, agency, procedure_key)
    ) WITHOUT ROWID;
    INSERT INTO figures (day, agency, procedure_key, procedure_name, {_MESSAGE_COLS})
        SELECT m.figures_day, m.agency, COALESCE(m.procedure_key, ''),
               MAX({_name_of("m")}), {", ".join(f"SUM({c})" for c in _counts("m", "m.why"))}
        FROM (SELECT *, {not_delivered("messages")} AS why FROM messages) AS m WHERE true
        GROUP BY 1, 2, 3;
    {_LOOKUP_ROWS}
        SELECT day, agency, key, MAX(name), COUNT(*) FROM ({_lookups("true")})
        WHERE true GROUP BY 1, 2, 3 {_UPSERT};
    INSERT INTO figures (day, agency, procedure_key, procedure_name, received)
        SELECT {local_day(_FIRST_SEEN, str(VIETNAM))},
               d.agency, {_KEY}, MAX(d.procedure), COUNT(*)
        FROM dossiers AS d LEFT JOIN
            (SELECT agency, receipt_key, MIN(received_at) AS first FROM events
             GROUP BY agency, receipt_key) AS e
            ON e.agency = d.agency AND e.receipt_key = d.receipt_key
        WHERE true GROUP BY 1, 2, 3 {_UPSERT};
    CREATE TEMP TABLE figures_were_resolved AS
        SELECT d.agency, d.receipt_key,
               CASE WHEN d.finished_on IS NULL THEN {_iso_day("d.occurred_at", str(VIETNAM))}
                    ELSE {SQLITE.date_day("d.finished_on")} END AS day,
               {_KEY} AS key, d.procedure AS name
        FROM dossiers AS d LEFT JOIN
            (SELECT DISTINCT agency, upper(trim(receipt_no)) AS receipt_key FROM messages
             WHERE kind = 'result') AS r
            ON r.agency = d.agency AND r.receipt_key = d.receipt_key
        WHERE d.status IN ({RESOLVED}) OR r.receipt_key IS NOT NULL;
    INSERT INTO figures (day, agency, procedure_key, procedure_name, resolved)
        SELECT day, agency, key, MAX(name), COUNT(*) FROM temp.figures_were_resolved
        WHERE true GROUP BY 1, 2, 3 {_UPSERT};
    {message_triggers(SQLITE)}
    CREATE TABLE figures_resolved (
        agency TEXT NOT NULL,
        receipt_key TEXT NOT NULL,
        PRIMARY KEY (agency, receipt_key)
    ) WITHOUT ROWID;
    INSERT INTO figures_resolved SELECT agency, receipt_key FROM temp.figures_were_resolved;
    DROP TABLE temp.figures_were_resolved;
    {dossier_trigger(SQLITE)}
"""
