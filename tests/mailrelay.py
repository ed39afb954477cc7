"""A real SMTP relay on loopback (aiosmtpd) that a test can slow down, take down and make
refuse: the far side of every email-notice test."""

import asyncio
import email
import email.policy
import re
import socket
import threading
import time

from aiosmtpd.controller import Controller

SITE = "http://127.0.0.1:5000"


def body_of(content: str) -> str:
    """An email's text as a mail program shows it (decoded from quoted-printable)."""
    return email.message_from_string(content, policy=email.policy.default).get_content()


def link_in(content: str, path: str) -> str:
    """The path of the one-use link in an email (`path` is where it leads, before the
    token)."""
    found = re.search(re.escape(SITE + path) + r"[A-Za-z0-9_-]+", body_of(content))
    assert found, content
    return found.group(0).removeprefix(SITE)


MESSAGE_ID = re.compile(r"^Message-ID: (\S+)", re.MULTILINE | re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """`accepted` holds what the relay acknowledged on a live connection: a message whose
    sender hung up before the 250 reached it is not counted (the sender will try again)."""

    def __init__(self, delay: float = 0.0, port: int | None = None):
        self.delay = delay
        self.port = port or free_port()
        self.accepted: list[tuple[list[str], str]] = []
        self.acknowledged_at: list[float] = []  # time.time() of each 250
        self.refuse_next = 0  # answer the next N messages "451 try again later"
        self.refuse_addresses: set[str] = set()  # "550 no such user", for good
        self.data_started = threading.Event()  # a message is being taken in, before its 250
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse_addresses:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.data_started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Busy, try again later"
            if server.transport is None or server.transport.is_closing():
                return "451 4.4.2 The sender has gone"
            self.accepted.append(
                (list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
            self.acknowledged_at.append(time.time())
        return "250 OK"

    def start(self) -> "Relay":
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def message_ids(self) -> list[str]:
        return [MESSAGE_ID.search(content).group(1) for _to, content in self.accepted]

    @property
    def recipients(self) -> list[str]:
        return sorted(address for to, _content in self.accepted for address in to)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.accepted)} of {count} emails arrived")
            time.sleep(0.05)
