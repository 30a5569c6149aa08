-- The people who entered a sequence, found by their facts without reading
-- everyone's (the dashboard's Sequences page, `polku sequences list`).
CREATE INDEX contacts_with_sequences ON contacts (seq) WHERE facts ? 'sequences';
