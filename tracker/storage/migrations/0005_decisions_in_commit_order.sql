-- A person's decisions are read in the order they were made: `seq`, drawn
-- under the people lock, not `ts` (a server's clock can be behind, or set back).
CREATE INDEX decisions_contact_seq ON decisions (contact, seq);
DROP INDEX decisions_contact;
