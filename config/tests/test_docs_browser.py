"""
The API docs in a real browser (Debian's Chromium, headless): every request the pages make
goes to the host that serves them, with no web font, CDN script or remote logo. Chromium is
mandatory in CI and the test is skipped with the reason elsewhere.
"""

import json
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest

from testing.services import require_service


def chromium():
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        require_service("Chromium", "not on PATH (apt-get install chromium)")
    return binary


def requests_made_by(page_url, tmp_path):
    """The URLs the page itself requested (Chromium's own background traffic left out)."""
    net_log = tmp_path / "net-log.json"
    subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={net_log}",
            # Time enough for the bundle to fetch the schema and render it.
            "--virtual-time-budget=10000", "--dump-dom", page_url,
        ],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    events = json.loads(net_log.read_text())["events"]
    return {
        event["params"]["url"]
        for event in events
        if event.get("params", {}).get("initiator") == origin and "url" in event["params"]
    }


@pytest.mark.parametrize("name", ["redoc", "docs"])
def test_the_docs_request_nothing_from_another_host(live_server, tmp_path, name):
    urls = requests_made_by(f"{live_server.url}/api/v1/{name}/", tmp_path)

    assert f"{live_server.url}/api/v1/schema/" in urls  # the page really ran
    assert {urlsplit(url).netloc for url in urls} == {urlsplit(live_server.url).netloc}, urls
