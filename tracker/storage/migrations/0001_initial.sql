-- The PostgreSQL backend's first schema (see tracker/storage/postgres/).
--
-- Documents are `json`, not `jsonb`: Python writes and reads them whole and
-- never queries inside them, so `json` keeps them exactly as written and
-- costs no conversion; `jsonb` would also refuse "\u0000", which a reader
-- can put in a page title. The fields the queries need are columns.

-- Observations: one row per event, partitioned by month (UTC) so that
-- retention is `DROP TABLE events_YYYY_MM`. Partitions are created on demand
-- by the backend; the default partition is only a safety net.
CREATE SEQUENCE events_seq;

CREATE TABLE events (
    seq bigint NOT NULL DEFAULT nextval('events_seq'),
    -- the inserting transaction: the aggregates fold events whose
    -- transaction has ended (see aggregates.py), whatever their seq.
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ts timestamptz NOT NULL,
    type text NOT NULL,
    visitor text,
    contact text,
    doc json NOT NULL
) PARTITION BY RANGE (ts);

CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE INDEX events_ts ON events (ts, seq);
CREATE INDEX events_visitor ON events (visitor, ts) WHERE visitor IS NOT NULL;
CREATE INDEX events_contact ON events (contact) WHERE contact IS NOT NULL;
CREATE INDEX events_xid ON events (xid);

-- People: the contact's current state, its indexed keys, its decisions.
CREATE TABLE contacts (
    seq bigserial NOT NULL UNIQUE, -- first-saved order, as the other backends
    id text PRIMARY KEY,
    email text NOT NULL,
    doc json NOT NULL,
    CONSTRAINT contacts_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED
);

-- (field, value) -> contact: ref_code, order ids. Unique across servers.
CREATE TABLE contact_keys (
    field text NOT NULL,
    value text NOT NULL,
    contact text NOT NULL,
    PRIMARY KEY (field, value)
);
CREATE INDEX contact_keys_contact ON contact_keys (contact);

CREATE TABLE decisions (
    seq bigserial PRIMARY KEY,
    contact text NOT NULL,
    ts text COLLATE "C" NOT NULL, -- ordered as the strings are, like Python
    doc json NOT NULL
);
CREATE INDEX decisions_contact ON decisions (contact, ts, seq);

-- Bumped by every change to people: the dashboard keeps its numbers until then.
CREATE TABLE people_state (
    id int PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO people_state VALUES (1, 0);

-- Send ledgers: the primary key makes a digest send idempotent across servers.
CREATE TABLE ledgers (
    ledger text NOT NULL,
    key text NOT NULL,
    ts timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger, key)
);

-- Small mutable documents (daily salts, settings).
CREATE TABLE meta (
    key text PRIMARY KEY,
    value json NOT NULL
);

-- The dashboard's aggregates: one daily cube per row, and how far they go.
CREATE TABLE aggregate_days (
    day text PRIMARY KEY,
    rev bigint NOT NULL, -- the fold that last wrote the row
    data json NOT NULL
);
CREATE INDEX aggregate_days_rev ON aggregate_days (rev);

CREATE TABLE aggregate_state (
    id int PRIMARY KEY CHECK (id = 1),
    folded xid8 NOT NULL, -- every event of a transaction below this is folded
    rev bigint NOT NULL
);
INSERT INTO aggregate_state VALUES (1, '0', 0);
