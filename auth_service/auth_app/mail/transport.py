"""Talking SMTP with the standard library: one connection, reused while messages keep coming."""

import smtplib
import ssl
from email.message import EmailMessage

from auth_app.mail.settings import SmtpConfig


class PermanentMailError(Exception):
    """The server refused this message for good (a 5xx answer): retrying won't help."""


class SmtpConnection:
    """A lazily opened SMTP session; ``send`` reconnects after ``close``."""

    def __init__(self, config: SmtpConfig):
        self._config = config
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        config = self._config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.implicit_tls:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            smtp.ehlo()
            if config.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                # The mail settings refuse a username without a password: never reached.
                if config.password is None:
                    raise ValueError("SMTP_USERNAME is set without SMTP_PASSWORD")
                smtp.login(config.username, config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message; ``PermanentMailError`` on a 5xx, other exceptions mean retry later."""
        if self._smtp is None:
            self._smtp = self._open()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentMailError(f"recipient refused ({codes[0]})") from None
            raise
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPSenderRefused):
                raise PermanentMailError(f"message refused ({exc.smtp_code})") from None
            self.close()
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """End the session (politely if the server still listens)."""
        if self._smtp is None:
            return
        smtp, self._smtp = self._smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
