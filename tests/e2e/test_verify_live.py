"""The running suite's workers keep checkpoints outside their stores, and every store verifies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from services.eventkit import config
from support import wait_until

pytestmark = [pytest.mark.kafka]


def test_every_worker_checkpoints_its_store_and_every_store_verifies(live_suite):
    directory = live_suite.workdir / "var" / "checkpoints"
    for service in config.SERVICES:
        path = directory / f"{service}.checkpoints.jsonl"
        wait_until(path.exists, timeout_s=30)
        done = subprocess.run(
            [sys.executable, "-m", "tandem.cli", service, "verify"],
            env=live_suite.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        report = json.loads(done.stdout)
        assert done.returncode == 0 and report["ok"], done.stdout + done.stderr
        assert report["checkpoints"] >= 1
