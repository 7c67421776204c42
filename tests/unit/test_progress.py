"""The operator's progress bar: drawn on a terminal, silent anywhere else."""

from __future__ import annotations

import io

from tandem.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_and_ends_its_line():
    screen = Terminal()
    with Progress("rebuild", 4, stream=screen) as bar:
        for _ in range(4):
            bar.advance()
    assert screen.getvalue().endswith("rebuild [" + "#" * 30 + "] 4/4 100%\n")
    assert "\r\x1b[K" in screen.getvalue()


def test_nothing_is_written_where_stderr_is_not_a_terminal():
    piped = io.StringIO()
    with Progress("backup", 10, stream=piped) as bar:
        bar.update(5)
    assert piped.getvalue() == ""


def test_without_a_total_the_bar_counts():
    bar = Progress("rebuild from topics", stream=io.StringIO())
    bar.update(1500)
    assert bar.line() == "rebuild from topics: 1500"
