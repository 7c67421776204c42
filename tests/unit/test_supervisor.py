"""`tandem run` keeps its children alive: a dead one is started again with growing backoff, and
the status file says so."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from services.eventkit import config
from tandem import supervisor


def _child(code: str) -> supervisor.Child:
    child = supervisor.Child("flaky", lambda: subprocess.Popen([sys.executable, "-c", code]))
    child.launch()
    return child


def _tend_until(children, predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        supervisor._tend(children, services=[])
        time.sleep(0.05)


def test_a_dead_child_is_started_again_with_growing_backoff(capsys):
    child = _child("raise SystemExit(3)")
    children = {"flaky": child}
    _tend_until(children, lambda: child.restarts == 2)
    assert child.last_exit == 3
    assert child.backoff_s == 4.0  # 1 s, then 2 s, then 4 s before the next try
    said = capsys.readouterr().err
    assert "flaky exited with code 3; starting it again in 1 s" in said
    assert "flaky started again (restart 2)" in said
    for c in children.values():
        if c.process is not None:
            c.process.wait(5)


def test_the_status_file_reports_each_child():
    running = _child("import time; time.sleep(30)")
    try:
        supervisor._write_status({"web": running})
        status = json.loads((config.var_dir() / supervisor.STATUS_FILE).read_text())
        assert status["children"]["web"]["state"] == "running"
        assert status["children"]["web"]["pid"] == running.process.pid
        assert status["children"]["web"]["restarts"] == 0
    finally:
        running.process.kill()
        running.process.wait()
    supervisor._tend({"web": running}, services=[])
    assert running.report()["state"] == "restarting"
    assert running.report()["restart_in_s"] is not None
