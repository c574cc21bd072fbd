-- Rebuilding the revocation list reads recently set per-user cutoffs.
CREATE INDEX users_tokens_valid_after ON users (tokens_valid_after) WHERE tokens_valid_after IS NOT NULL;
