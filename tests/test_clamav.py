"""The ClamAV backend against a real clamd, started here on a loopback port with a signature
database made for the test (the EICAR test file's hash): no download, no network."""

import hashlib
import os
import shutil
import socket
import subprocess
import time

import pytest

from smweb.services.scanning import ClamdScanner
from tests.samples import EICAR
from tests.support import send_with_files

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    if not os.path.exists(CLAMD):
        if os.environ.get("CI") == "true":
            pytest.fail("clamd is missing in CI: .ci/run installs clamav-daemon")
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "smweb-test.hdb").write_text(
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Smweb-Test-EICAR\n"  # noqa: S324
    )
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = folder / "clamd.conf"
    config.write_text(
        f"Foreground yes\nDatabaseDirectory {folder}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
        f"LogFile {folder / 'clamd.log'}\nUser root\n"
    )
    process = subprocess.Popen(  # noqa: S603 - our own config, on loopback
        [CLAMD, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        process.wait()
        pytest.fail("clamd did not start: " + (folder / "clamd.log").read_text()[-500:])
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_real_clamd_passes_a_clean_file(clamd):
    assert ClamdScanner(clamd).scan(b"My blood pressure log" * 10_000) is None


def test_real_clamd_finds_eicar(clamd):
    assert ClamdScanner(clamd).scan(EICAR).startswith("Smweb-Test-EICAR")


def test_real_clamd_refuses_the_upload_in_the_app(clamd, app, login, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "smweb.scanner", ClamdScanner(clamd))
    login("veteran1")
    response = send_with_files(client, app, [("eicar.txt", EICAR), ("ok.txt", b"fine")])
    assert response.status_code == 422
    assert "eicar.txt: our virus scanner found a problem in this file" in response.get_data(
        as_text=True)


def test_the_health_check_finds_a_real_clamd(clamd, app, ctx, monkeypatch):
    from smweb.services import health

    monkeypatch.setitem(app.extensions, "smweb.scanner", ClamdScanner(clamd))
    [check] = [c for c in health.checks() if c.name == "Virus scanner (clamd)"]
    assert check.ok and check.detail == f"{clamd} answers PING"
