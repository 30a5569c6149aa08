-- A copy from TinyDB run again must not undo what happened since the last one:
-- the directory's erasures are counted by its generation (a person erased
-- there would stay here), and each small document keeps the value the copy
-- last wrote, so that one changed here since (a digest's cut-off, the salts)
-- is kept rather than overwritten.
ALTER TABLE people_state ADD COLUMN copied_generation bigint;
CREATE TABLE transfer_meta (
    key text PRIMARY KEY,
    value json NOT NULL
);
