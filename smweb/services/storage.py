"""Where attachment bytes live: a folder outside the web root, behind a small interface so an
S3-compatible store can take its place."""

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


class Storage(Protocol):
    def save(self, data: bytes) -> str: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> Iterator[str]: ...


class LocalStorage:
    """Files under `root`, named by the server (random hex), never by the user."""

    TEMP_PREFIX = ".incoming-"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours: hex only, so never a path
            raise ValueError("bad storage key")
        return self.root / key

    def save(self, data: bytes) -> str:
        """Write atomically: a temp file in the same folder, fsync, rename, fsync the folder.
        Only then may the caller commit the row that names the key."""
        key = secrets.token_hex(16)
        temp = self.root / f"{self.TEMP_PREFIX}{key}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, self._path(key))
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every stored key, and the temp files a crash may have left (which no row names)."""
        for path in self.root.iterdir():
            if path.is_file():
                yield path.name


    def writable(self) -> bool:
        """A file can be written here and removed again (the health page asks)."""
        try:
            key = self.save(b"smweb health check")
            self.delete(key)
        except OSError:
            return False
        return True

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def init_app(app: Flask) -> None:
    app.extensions["smweb.storage"] = LocalStorage(Path(app.config["ATTACHMENTS_DIR"]))


def storage() -> LocalStorage:
    return current_app.extensions["smweb.storage"]
