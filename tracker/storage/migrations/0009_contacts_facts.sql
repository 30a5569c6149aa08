-- Each contact's facts (tracker/journey/facts.py: what the dashboard counts of
-- a person), saved beside it with every decision, so the overview, the journey
-- map and the stage filter read a few hundred bytes per person, and only of the
-- people with something in the period (the span's index), not every timeline.
-- Existing contacts get theirs from their whole timeline, worked out in Python
-- by `polku db migrate` (or the first read that finds one missing).
ALTER TABLE contacts ADD COLUMN facts jsonb;
ALTER TABLE contacts ADD COLUMN active_first text COLLATE "C"
    GENERATED ALWAYS AS (facts #>> '{span,0}') STORED;
ALTER TABLE contacts ADD COLUMN active_last text COLLATE "C"
    GENERATED ALWAYS AS (facts #>> '{span,1}') STORED;
ALTER TABLE contacts ADD COLUMN stage text COLLATE "C"
    GENERATED ALWAYS AS (facts ->> 'stage') STORED;
ALTER TABLE contacts ADD COLUMN referred_by text COLLATE "C"
    GENERATED ALWAYS AS (facts ->> 'referred_by') STORED;

CREATE INDEX contacts_active ON contacts (active_last, active_first);
CREATE INDEX contacts_stage ON contacts (stage, last_seen DESC, seq);
CREATE INDEX contacts_referred ON contacts (referred_by) WHERE referred_by IS NOT NULL;
CREATE INDEX contacts_without_facts ON contacts (seq) WHERE facts IS NULL;
-- The few people whose facts hold bounces and complaints, quote requests,
-- purchases or downloads, found without reading everyone's.
CREATE INDEX contacts_with_reports ON contacts (seq) WHERE facts ? 'reports';
CREATE INDEX contacts_with_quotes ON contacts (seq) WHERE facts ? 'quotes';
CREATE INDEX contacts_with_purchases ON contacts (seq) WHERE facts ? 'purchases';
CREATE INDEX contacts_with_downloads ON contacts (seq) WHERE facts ? 'downloads';
