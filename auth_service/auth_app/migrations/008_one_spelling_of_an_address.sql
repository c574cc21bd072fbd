-- One spelling of an address. email_key is the address normalised in Python
-- (validation.normalise_email: NFKC, case-folded), the one value every lookup,
-- throttle and mail limit compares; email stays as typed, for display and
-- for sending. lower(email) depended on the database's collation (under a
-- UTF-8 one, U+0130 lowered to "i") while the throttle keys used Python's
-- casefold: one address, several counters. The step refuses to finish,
-- listing them, when two accounts share a key.

ALTER TABLE users ADD COLUMN email_key text;
--! step: fill_email_keys
ALTER TABLE users ALTER COLUMN email_key SET NOT NULL;
CREATE UNIQUE INDEX users_email_key ON users (email_key);
DROP INDEX users_email_lower_key;
