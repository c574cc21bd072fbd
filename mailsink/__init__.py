"""A development mail sink: a real SMTP server (aiosmtpd) that keeps every message in a file."""
