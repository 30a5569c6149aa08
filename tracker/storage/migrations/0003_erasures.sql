-- Erasures are counted, and a copy from TinyDB remembers the count it saw: a
-- rerun after someone was erased here would bring them back from the old
-- directory, so `polku db migrate --from-tinydb` refuses it.
ALTER TABLE people_state ADD COLUMN erased bigint NOT NULL DEFAULT 0;
ALTER TABLE people_state ADD COLUMN erased_at_copy bigint;
