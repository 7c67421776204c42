"""Long commands draw a progress bar when stderr is a terminal, and write nothing there when it
is a pipe or a log."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from support import run_tandem


def _on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", *args],
        env=env, stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    return process.wait(60), seen.decode(errors="replace")


def test_a_rebuild_shows_its_bar_on_a_terminal_only(tmp_path):
    env = {**os.environ, "TANDEM_VAR_DIR": str(tmp_path / "var")}
    env = {k: v for k, v in env.items() if not k.endswith("_DATABASE_URL")}
    assert run_tandem(env, "enrollment", "migrate").returncode == 0

    code, screen = _on_a_terminal(env, "enrollment", "rebuild")
    assert code == 0, screen
    assert "\r\x1b[Kenrollment rebuild" in screen and "replayed 0 events" in screen

    piped = run_tandem(env, "enrollment", "rebuild")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == "enrollment: replayed 0 events\n"
