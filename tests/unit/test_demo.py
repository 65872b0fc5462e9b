"""`make demo`'s command lines: bold on a terminal, plain text in a file, a pipe or a CI log, and with NO_COLOR."""

from __future__ import annotations

import io

import pytest

from scripts.demo import heading


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_command_in_bold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert heading("$ pricebook validate plans/", "offline", Terminal()) == (
        "\033[1m$ pricebook validate plans/\033[0m   # offline"
    )


def test_a_file_or_a_pipe_gets_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert heading("$ pricebook validate plans/", "offline", io.StringIO()) == "$ pricebook validate plans/   # offline"


@pytest.mark.parametrize(("value", "bold"), [("1", False), ("", True)])
def test_no_color_turns_bold_off_on_a_terminal_too(monkeypatch: pytest.MonkeyPatch, value: str, bold: bool) -> None:
    monkeypatch.setenv("NO_COLOR", value)  # set and not empty, as no-color.org says; empty is as if unset
    assert ("\033[" in heading("$ pricebook plan plans/", "the diff", Terminal())) is bold
