-- The contact list's search matches the email or the first name: a first name
-- kept beside the document, lower-cased, so a search reads two short columns
-- instead of parsing every contact's document.
ALTER TABLE contacts ADD COLUMN first_name text
    GENERATED ALWAYS AS (lower(coalesce(doc ->> 'first_name', ''))) STORED;
