"""Counting login attempts by result, around the login route."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g

from authcore import metrics
from authcore.errors import InvalidCredentials, TooManyRequests, Unavailable


@contextmanager
def counted_login() -> Iterator[None]:
    """Count the login attempt run inside by how it ended.

    success; invalid_credentials or disabled (``audit.login_failed`` says
    which); throttled (the account's failures closed it); shed (the
    password-check slots were busy past the deadline); unavailable (a dependency).
    """
    try:
        yield
    except InvalidCredentials:
        metrics.LOGIN_ATTEMPTS.labels(result=g.get("login_result", "invalid_credentials")).inc()
        raise
    except TooManyRequests as exc:
        shed = exc.message == TooManyRequests.message  # the slot's refusal keeps the default message
        metrics.LOGIN_ATTEMPTS.labels(result="shed" if shed else "throttled").inc()
        raise
    except Unavailable:
        metrics.LOGIN_ATTEMPTS.labels(result="unavailable").inc()
        raise
    else:
        metrics.LOGIN_ATTEMPTS.labels(result="success").inc()
