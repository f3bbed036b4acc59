"""Asking the learner: questionary on a terminal, plain lines otherwise, defaults with --yes.

The wizard only talks to a :class:`Prompter`, so the same flow runs with arrow-key menus,
on a dumb terminal or a pipe (plain numbered menus read from standard input), and with
no terminal at all (``--yes``: every prompt takes its default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from rich.console import Console


class Quit(Exception):
    """The learner asked to stop (Ctrl-C, Ctrl-D or end of input at a prompt)."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    key: str | None = None  # a one-letter shortcut


Validator = Callable[[str], str | None]  # returns an error message or None


class Prompter(Protocol):
    interactive: bool

    def choose(self, message: str, choices: Sequence[Choice], default: str) -> str: ...

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str: ...

    def confirm(self, message: str, default: bool) -> bool: ...


class AutoPrompter:
    """Answers every prompt with its default (``--yes``)."""

    interactive = False

    def __init__(self, console: Console) -> None:
        self.console = console

    def choose(self, message: str, choices: Sequence[Choice], default: str) -> str:
        return default

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        if validate is not None:
            problem = validate(default)
            if problem:
                from tutor.errors import UsageError

                raise UsageError(f"{message}: the default '{default}' is not valid ({problem}).",
                                 "Pass the value on the command line.")
        return default

    def confirm(self, message: str, default: bool) -> bool:
        self.console.print(f"  ? {message} -> {'yes' if default else 'no'} (default)", highlight=False)
        return default


class PlainPrompter:
    """Numbered menus and typed answers read line by line (dumb terminal, pipe, --plain)."""

    interactive = True

    def __init__(self, console: Console, read: Callable[[], str] | None = None) -> None:
        self.console = console
        self._read = read or input

    def _line(self, prompt: str) -> str:
        self.console.print(prompt, end="", highlight=False)
        try:
            return self._read().strip()
        except (EOFError, KeyboardInterrupt):
            self.console.print()
            raise Quit() from None

    def choose(self, message: str, choices: Sequence[Choice], default: str) -> str:
        self.console.print(message, highlight=False)
        for number, choice in enumerate(choices, start=1):
            key = f" [{choice.key}]" if choice.key else ""
            mark = " (default)" if choice.value == default else ""
            self.console.print(f"  {number}) {choice.label}{key}{mark}", highlight=False)
        while True:
            answer = self._line("> ")
            if not answer:
                return default
            for number, choice in enumerate(choices, start=1):
                if answer == str(number) or (choice.key and answer.lower() == choice.key) \
                        or answer.casefold() == choice.value.casefold() or answer.casefold() == choice.label.casefold():
                    return choice.value
            self.console.print(f"  '{answer}' is not one of the choices: type a number from 1 to {len(choices)}.",
                               highlight=False)

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        suffix = f" [{default}]" if default else ""
        while True:
            answer = self._line(f"{message}{suffix}: ") or default
            problem = validate(answer) if validate else None
            if not problem:
                return answer
            self.console.print(f"  {problem}", highlight=False)

    def confirm(self, message: str, default: bool) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self._line(f"{message} [{hint}] ").lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.console.print("  Please answer y or n.", highlight=False)


class QuestionaryPrompter:
    """Arrow-key menus with questionary on a real terminal."""

    interactive = True

    def __init__(self, console: Console) -> None:
        self.console = console

    @staticmethod
    def _ask(question) -> object:
        answer = question.ask()  # None on Ctrl-C / Ctrl-D
        if answer is None:
            raise Quit()
        return answer

    def choose(self, message: str, choices: Sequence[Choice], default: str) -> str:
        import questionary

        items = [questionary.Choice(title=c.label, value=c.value, shortcut_key=c.key or True) for c in choices]
        use_shortcuts = all(c.key for c in choices) and len(choices) <= 36
        default_choice = next((i for i in items if i.value == default), None)
        return str(self._ask(questionary.select(message, choices=items, default=default_choice,
                                                use_shortcuts=use_shortcuts)))

    def text(self, message: str, default: str = "", validate: Validator | None = None) -> str:
        import questionary

        def check(value: str) -> bool | str:
            problem = validate(value) if validate else None
            return problem or True

        return str(self._ask(questionary.text(message, default=default, validate=check)))

    def confirm(self, message: str, default: bool) -> bool:
        import questionary

        return bool(self._ask(questionary.confirm(message, default=default)))


def make_prompter(console: Console, *, assume_yes: bool, plain: bool) -> Prompter:
    import os

    from tutor.ui import stdin_is_terminal

    if assume_yes:
        return AutoPrompter(console)
    if plain or os.environ.get("TERM") == "dumb" or not stdin_is_terminal():
        return PlainPrompter(console)
    return QuestionaryPrompter(console)
