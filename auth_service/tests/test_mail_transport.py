"""SMTP delivery against a real SMTP server (aiosmtpd, in-process) on a free port."""

import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from auth_app.mail.settings import read_smtp_config
from auth_app.mail.transport import PermanentMailError, SmtpConnection


class Recorder:
    """Keeps what it receives; refuses recipients at refused.example.com for good (550)."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example.com"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


def message(to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.com", to, "hello"
    mail.set_content("body")
    return mail


def test_messages_go_out_over_one_connection(server):
    controller, recorder = server
    connection = SmtpConnection(read_smtp_config({"SMTP_URL": f"smtp://127.0.0.1:{controller.port}"}))
    connection.send(message("bob@example.com"))
    connection.send(message("carol@example.com"))
    connection.close()
    assert [rcpt for rcpt, _ in recorder.received] == [["bob@example.com"], ["carol@example.com"]]
    assert b"Subject: hello" in recorder.received[0][1]


def test_a_permanent_refusal_is_not_retried_and_the_connection_stays_usable(server):
    controller, recorder = server
    connection = SmtpConnection(read_smtp_config({"SMTP_URL": f"smtp://127.0.0.1:{controller.port}"}))
    with pytest.raises(PermanentMailError):
        connection.send(message("nobody@refused.example.com"))
    connection.send(message("bob@example.com"))
    connection.close()
    assert [rcpt for rcpt, _ in recorder.received] == [["bob@example.com"]]


def test_a_server_that_is_down_fails_with_a_retryable_error():
    config = read_smtp_config({"SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "SMTP_TIMEOUT": "2"})
    with pytest.raises(OSError):
        SmtpConnection(config).send(message("bob@example.com"))


def test_a_server_that_never_answers_ends_in_smtp_timeout_not_a_hung_sender():
    """Accepts the connection, never greets: the socket's SMTP_TIMEOUT fires (a retryable OSError).

    The exception's type shows the timeout was applied; how long it took
    depends on the machine and is not asserted.
    """
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        config = read_smtp_config({"SMTP_URL": f"smtp://127.0.0.1:{port}", "SMTP_TIMEOUT": "1"})
        with pytest.raises(OSError) as error:
            SmtpConnection(config).send(message("bob@example.com"))
    # smtplib reports the socket's timeout as a disconnection caused by it.
    assert isinstance(error.value, TimeoutError) or isinstance(error.value.__context__, TimeoutError)
