-- `polku db migrate --from-tinydb DIR` copies a TinyDB data directory and may
-- be run again: each journal file's copied length is kept here, in the same
-- transaction as its rows, so a rerun copies only what was added since.
CREATE TABLE transfer_marks (
    file text PRIMARY KEY, -- <month>/<writer>.jsonl: writer ids are unique
    "offset" bigint NOT NULL
);

-- A decision is its contact's once, whoever copies it how often.
CREATE UNIQUE INDEX decisions_event_id ON decisions (contact, (doc ->> 'id'));
