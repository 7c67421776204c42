"""/metrics of an API served by several gunicorn workers adds up what every worker counted
(prometheus-client's multi-process mode, set up by `serve` before the fork)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from services.enrollment.service import SERVICE
from services.eventkit.broker import free_port
from services.eventkit.migrations import upgrade
from support import wait_until


def _served(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=5).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "tandem_http_requests_total" and s.labels["route"] == "/healthz"
    )


def test_every_gunicorn_worker_is_counted(tmp_path):
    database = f"sqlite:///{tmp_path / 'enrollment.db'}"
    upgrade(SERVICE.migrations, database)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {"ENROLLMENT_DATABASE_URL": database, "ENROLLMENT_PORT": str(port),
            "TANDEM_API_WORKERS": "3", "TANDEM_API_THREADS": "1",
            "TANDEM_BIND_HOST": "127.0.0.1",
            "TANDEM_VAR_DIR": str(tmp_path / "var")}  # fmt: skip
    log = (tmp_path / "api.log").open("ab")
    api = subprocess.Popen([sys.executable, "-m", "tandem.cli", "enrollment", "api"], env=env,
                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(url), timeout_s=60)
        metrics_dir = tmp_path / "var" / "metrics" / "enrollment"

        def health(_: int) -> bool:
            return requests.get(f"{url}/healthz", timeout=5, headers={"Connection": "close"}).ok

        sent = 0
        # Concurrent new connections, while they all land on one worker (the others may still
        # be booting): gunicorn's workers then share them out.
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(20):
                assert all(pool.map(health, range(30)))
                sent += 30
                if sent >= 60 and len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                    break
        # Whichever worker answers the scrape, it reports every worker's requests.
        assert {_served(url) >= sent for _ in range(6)} == {True}
        files = list(metrics_dir.glob("counter_*.db"))
        assert len(files) >= 2, files  # more than one worker wrote its counts
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).ok
    except requests.RequestException:
        return False
