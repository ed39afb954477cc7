"""Where attachment bytes live: a folder outside the web root, or a bucket of an S3-compatible
object store, behind one small interface. SMWEB_STORAGE picks one at start-up; nothing else
knows which runs.

Every failure of a store is an OSError (FileNotFoundError when the object is not there), so
callers handle a missing file, a full disk and an unreachable bucket alike."""

import base64
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app

KINDS = ("local", "s3")
CHUNK = 256 * 1024  # bytes read from a store at a time


class Storage(Protocol):
    """Bytes under keys the server chooses (random hex), never names a user gave."""

    where: str  # for the health page and the logs: a folder, or endpoint and bucket

    def put(self, key: str, data: bytes) -> None:
        """Write `data` under `key` and return only once it is durably stored and confirmed."""
        ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The bytes under `key`, a piece at a time (at most CHUNK each): a large file is
        never held whole in memory."""
        ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]:
        """Every stored key, and what a crash may have left half-written (no row names it)."""
        ...

    def modified(self, key: str) -> float:
        """When the key was last written (seconds since the epoch)."""
        ...

    def free_bytes(self) -> int | None:
        """Space left, or None when the store doesn't say (object storage)."""
        ...

    def read(self, key: str) -> bytes:
        return b"".join(self.chunks(key))

    def save(self, data: bytes) -> str:
        """Store new bytes under a fresh key. Only once this returns may the caller commit
        the row that names the key."""
        key = secrets.token_hex(16)
        self.put(key, data)
        return key

    def writable(self) -> bool:
        """Something can be written here and removed again (the health page asks)."""
        try:
            self.delete(self.save(b"smweb health check"))
        except OSError:
            return False
        return True


def _checked(key: str) -> str:
    if not key.isalnum():  # keys are ours: hex only, so never a path
        raise ValueError("bad storage key")
    return key


class LocalStorage(Storage):
    """Files in a folder of their own."""

    TEMP_PREFIX = ".incoming-"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.where = str(self.root)

    def _path(self, key: str) -> Path:
        # keys() lists the temp files a crash left behind, so the sweep can remove them too.
        _checked(key.removeprefix(self.TEMP_PREFIX))
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a temp file in the same folder, fsync, rename, fsync the folder."""
        final = self._path(key)
        temp = self.root / f"{self.TEMP_PREFIX}{key}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def chunks(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as stored:
            while piece := stored.read(CHUNK):
                yield piece

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        for path in self.root.iterdir():
            if path.is_file():
                yield path.name

    def modified(self, key: str) -> float:
        return self._path(key).stat().st_mtime

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.root).free


class S3Storage(Storage):
    """Objects in a bucket of an S3-compatible store (AWS S3, SeaweedFS, MinIO, Ceph ...),
    given to smweb alone: the sweep removes what no row names."""

    LIST_PAGE = 1000  # keys per listing request (S3's own maximum)

    def __init__(self, bucket: str, endpoint_url: str | None, access_key_id: str,
                 secret_access_key: str, region: str = "us-east-1"):
        self.bucket = bucket
        self.where = f"bucket {bucket} at {endpoint_url or 'AWS S3'}"
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=BotoConfig(
                s3={"addressing_style": "path"},  # most self-hosted stores have no bucket DNS
                connect_timeout=5, read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"}))

    def _call(self, operation: str, key: str | None = None, **arguments):
        """One S3 request; any failure becomes an OSError (FileNotFoundError for no object)."""
        if key is not None:
            arguments["Key"] = _checked(key)
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise FileNotFoundError(f"no object {key} in {self.where}") from error
            raise OSError(f"{self.where}: {operation} failed ({code})") from error
        except BotoCoreError as error:
            raise OSError(f"{self.where}: {operation} failed ({type(error).__name__})") \
                from error

    def put(self, key: str, data: bytes) -> None:
        """The store checks the bytes against their SHA-256 as they arrive; then we ask for
        the object back (size and checksum) before saying it is stored."""
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self._call("put_object", key, Body=data, ChecksumSHA256=checksum)
        head = self._call("head_object", key, ChecksumMode="ENABLED")
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        confirmed = head.get("ContentLength") == len(data) and (
            head["ChecksumSHA256"] == checksum if "ChecksumSHA256" in head
            else head.get("ETag", "").strip('"') == md5)
        if not confirmed:
            raise OSError(f"{self.where}: object {key} was not stored as sent")

    def chunks(self, key: str) -> Iterator[bytes]:
        body = self._call("get_object", key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        except (BotoCoreError, OSError) as error:  # the connection broke mid-object
            raise OSError(f"{self.where}: reading {key} failed") from error
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self._call("delete_object", key)  # deleting what is not there is no error in S3

    def keys(self) -> Iterator[str]:
        token: dict = {}
        while True:
            page = self._call("list_objects_v2", MaxKeys=self.LIST_PAGE, **token)
            for item in page.get("Contents", []):
                if item["Key"].isalnum():  # anything else is not ours: never swept
                    yield item["Key"]
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def modified(self, key: str) -> float:
        return self._call("head_object", key)["LastModified"].timestamp()

    def free_bytes(self) -> None:
        return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_storage(config: Mapping, kind: str | None = None) -> Storage:
    """The store the settings name (SMWEB_STORAGE), or the one of `kind` they describe."""
    kind = kind or config["STORAGE"]
    if kind == "local":
        return LocalStorage(Path(config["ATTACHMENTS_DIR"]))
    if kind == "s3":
        if not config["S3_BUCKET"]:
            raise ValueError("SMWEB_STORAGE=s3 needs SMWEB_S3_BUCKET (and the endpoint and "
                             "keys: see README, Attachments in object storage)")
        return S3Storage(config["S3_BUCKET"], config["S3_ENDPOINT_URL"],
                         config["S3_ACCESS_KEY_ID"], config["S3_SECRET_ACCESS_KEY"],
                         config["S3_REGION"])
    raise ValueError(f"SMWEB_STORAGE must be one of {', '.join(KINDS)}, not {kind!r}")


def init_app(app: Flask) -> None:
    app.extensions["smweb.storage"] = open_storage(app.config)


def storage() -> Storage:
    return current_app.extensions["smweb.storage"]
