"""The virus-scanner hook: no scanner by default, or ClamAV's clamd, chosen by configuration."""

import socket
import struct
from typing import Protocol

from flask import Flask, current_app


class Scanner(Protocol):
    def scan(self, data: bytes) -> str | None:
        """None when the file is clean; otherwise the scanner's name for what it found."""


class NoScanner:
    def scan(self, data: bytes) -> str | None:
        return None


class ScannerUnavailable(Exception):
    """clamd could not be reached or answered nonsense: the file is not accepted unscanned."""


class ClamdScanner:
    """Talks clamd's INSTREAM protocol over TCP ("host:port") or a Unix socket ("/path")."""

    CHUNK = 64 * 1024

    def __init__(self, address: str, timeout: float = 30.0):
        self.address = address
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        if self.address.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: object = self.address
        else:
            host, _, port = self.address.rpartition(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host, int(port))
        sock.settimeout(self.timeout)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        return sock

    def ping(self) -> bool:
        """clamd answers PING with PONG (the health page asks)."""
        try:
            with self._connect() as sock:
                sock.sendall(b"zPING\0")
                return sock.recv(64).rstrip(b"\0").strip() == b"PONG"
        except OSError:
            return False

    def scan(self, data: bytes) -> str | None:
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), self.CHUNK):
                    chunk = data[start:start + self.CHUNK]
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = sock.recv(4096)
                    if not part:
                        break
                    reply += part
        except OSError as error:
            raise ScannerUnavailable(str(error)) from error
        answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
        # "stream: OK" or "stream: Eicar-Signature FOUND"
        if answer.endswith(" OK"):
            return None
        if answer.endswith(" FOUND"):
            return answer.split(":", 1)[-1].removesuffix(" FOUND").strip()
        raise ScannerUnavailable(f"unexpected clamd reply: {answer[:80]}")


def init_app(app: Flask) -> None:
    kind = app.config["SCANNER"]
    if kind == "clamd":
        scanner: Scanner = ClamdScanner(app.config["CLAMD_ADDRESS"])
    elif kind == "none":
        scanner = NoScanner()
    else:
        raise ValueError(f"SMWEB_SCANNER must be 'none' or 'clamd', not {kind!r}")
    app.extensions["smweb.scanner"] = scanner


def scanner() -> Scanner:
    return current_app.extensions["smweb.scanner"]
