"""Every `tandem` command explains itself with --help, and says in one line, without a
traceback, when its database or broker is not there."""

from __future__ import annotations

import argparse

import pytest

from tandem import cli

COMMANDS = next(
    a.choices for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)
)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: tandem {command}")
    assert len(out.splitlines()) > 3


def test_a_store_not_migrated_is_named_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path / "var"))
    assert cli.main(["enrollment", "verify"]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("tandem enrollment: the database is not migrated") and "Traceback" not in err
    )


def test_a_broker_away_is_named_at_once(monkeypatch, capsys):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    assert cli.main(["dlq", "list"]) == 1
    assert "the broker at 127.0.0.1:1 does not answer" in capsys.readouterr().err
