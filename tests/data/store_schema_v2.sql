-- The store's schema as version 2 of motcua-sms wrote it (user_version 2), verbatim
-- from its migrations, to check that a store written by it opens and keeps its data.

-- migration 1
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

-- migration 2
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

PRAGMA user_version = 2;
