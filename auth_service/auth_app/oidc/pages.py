"""The provider's HTML pages: login, second factor, consent, error.

Server-rendered, no script at all, every value escaped. The CSP allows
nothing but posting forms to ourselves and to the request's registered
redirect URI's origin (Chromium applies ``form-action`` to the redirect that
follows a form), and no framing.
"""

from html import escape
from urllib.parse import urlsplit

from flask import Response

SCOPE_TEXT = {
    "openid": "know who you are (your user id)",
    "profile": "see your username",
    "email": "see your email address and whether it is verified",
    "offline_access": "stay signed in after you close it (a refresh token)",
}


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _page(title: str, body: str, status: int = 200, redirect_uri: str | None = None) -> Response:
    form_action = "'self'" + (f" {_origin(redirect_uri)}" if redirect_uri else "")
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}</main>\n"
        "</body>\n</html>\n"
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own forms.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _form(action: str, fields: str, button: str) -> str:
    submit = f'<button type="submit">{escape(button)}</button>\n'
    return f'<form method="post" action="{escape(action)}">\n{fields}{submit}</form>\n'


def _alert(message: str | None) -> str:
    return f'<p role="alert">{escape(message)}</p>\n' if message else ""


def login_page(
    action: str, client_name: str, redirect_uri: str, message: str | None = None, status: int = 200
) -> Response:
    """Username, Password, Log in."""
    fields = (
        '<input type="hidden" name="step" value="login">\n'
        '<p><label for="username">Username</label>\n'
        '<input id="username" name="username" autocomplete="username" required autofocus></p>\n'
        '<p><label for="password">Password</label>\n'
        '<input id="password" name="password" type="password" autocomplete="current-password" required></p>\n'
    )
    intro = f"<p>Log in to continue to {escape(client_name)}.</p>\n"
    return _page("Log in", intro + _alert(message) + _form(action, fields, "Log in"), status, redirect_uri)


def second_factor_page(
    action: str, mfa_token: str, redirect_uri: str, message: str | None = None, status: int = 200
) -> Response:
    """The code from the authenticator app, or a recovery code."""
    fields = (
        '<input type="hidden" name="step" value="mfa">\n'
        f'<input type="hidden" name="mfa_token" value="{escape(mfa_token)}">\n'
        '<p><label for="code">Code from your authenticator app, or a recovery code</label>\n'
        '<input id="code" name="code" autocomplete="one-time-code" required autofocus></p>\n'
    )
    return _page("Second factor", _alert(message) + _form(action, fields, "Verify"), status, redirect_uri)


def consent_page(action: str, client_name: str, scopes: list[str], redirect_uri: str) -> Response:
    """Allow or Deny, listing what the client asks for."""
    items = "".join(f"<li>{escape(SCOPE_TEXT.get(scope, scope))}</li>\n" for scope in scopes)
    body = f"<p>{escape(client_name)} would like to:</p>\n<ul>\n{items}</ul>\n"
    buttons = (
        '<input type="hidden" name="step" value="consent">\n'
        '<button type="submit" name="decision" value="allow">Allow</button>\n'
        '<button type="submit" name="decision" value="deny">Deny</button>\n'
    )
    form = f'<form method="post" action="{escape(action)}">\n{buttons}</form>\n'
    return _page("Allow access?", body + form, 200, redirect_uri)


def error_page(error: str, description: str, status: int = 400) -> Response:
    """An authorization request we can't send back to the client (no registered redirect URI)."""
    body = (
        f'<p role="alert">This sign-in request can\'t be completed: {escape(description)}</p>\n'
        f"<p>Error code: <code>{escape(error)}</code></p>\n"
    )
    return _page("Sign-in error", body, status)


def logged_out_page() -> Response:
    """The person is logged out of the provider."""
    return _page("Logged out", "<p>You are logged out.</p>\n")


def logout_confirm_page(action: str) -> Response:
    """Log out? (a logout request that did not come with one of our ID tokens)."""
    body = "<p>Do you want to log out?</p>\n" + _form(action, "", "Log out")
    return _page("Log out", body)
