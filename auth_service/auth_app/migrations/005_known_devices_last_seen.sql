-- When each known device was last used to sign in, so housekeeping can
-- forget devices unused for long (the table grew by one row per user agent
-- per user, for good). Rows from before count as seen now.

ALTER TABLE known_devices ADD COLUMN last_seen timestamptz NOT NULL DEFAULT now();
CREATE INDEX known_devices_last_seen ON known_devices (last_seen);
