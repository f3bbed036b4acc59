"""Reading the learner's code: a multi-line Python prompt on a terminal, lines on a pipe.

On a terminal it is prompt_toolkit (which questionary already brings): Python highlighting,
history kept in the course folder, several pasted lines at once. Enter on an empty last line
runs the code (as a block ends in Python's own prompt); Esc then Enter runs it at once. A
command (hint, solution, skip, back, quit, e) is a line of its own. On a pipe or a dumb
terminal the same rules hold, line by line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

COMMANDS = {
    "hint": "hint", "h": "hint", "solution": "solution", "skip": "skip", "back": "back",
    "quit": "quit", "q": "quit", "check": "check", "e": "edit", "edit": "edit", "help": "help", "?": "help",
}
HELP = ("Type Python and press Enter on an empty line to run it (Esc Enter runs at once). "
        "Commands: hint · solution (show it) · skip (run the solution, marked skipped) · "
        "e (write it in $EDITOR) · back · quit. Ctrl-C stops your running code.")


def command_of(text: str) -> str | None:
    """The command a whole answer stands for, or None when it is code."""
    return COMMANDS.get(text.strip().lower().lstrip(":")) if "\n" not in text.strip() else None


def read_code_terminal(message: str, initial: str, history: Path | None, submit_empty: bool = False) -> str:
    """One answer at the terminal; raises EOFError on Ctrl-D and KeyboardInterrupt on Ctrl-C."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer
    from pygments.lexers.python import PythonLexer

    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event) -> None:  # type: ignore[no-untyped-def]
        buffer = event.current_buffer
        text = buffer.text
        at_end = buffer.document.is_cursor_at_the_end
        last_line_blank = text.endswith("\n") or text.strip() == ""
        if at_end and (text.strip() or submit_empty) and (last_line_blank or command_of(text)):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @bindings.add("escape", "enter")
    def _run_now(event) -> None:  # type: ignore[no-untyped-def]
        event.current_buffer.validate_and_handle()

    store: History = InMemoryHistory()
    if history is not None:
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            store = FileHistory(str(history))
        except OSError:
            pass
    session: PromptSession[str] = PromptSession(multiline=True, key_bindings=bindings, history=store,
                                                lexer=PygmentsLexer(PythonLexer),
                                                prompt_continuation=lambda width, line, wrap: "... ")
    return session.prompt(message, default=initial).rstrip()


def read_code_lines(read: Callable[[], str], echo: Callable[[str], None], submit_empty: bool = False) -> str:
    """One answer from lines (a pipe): code until an empty line, or a command alone on its line.

    With ``submit_empty`` an empty line on its own is an answer too (a file exercise: check the file).
    """
    lines: list[str] = []
    echo(">>> ")
    while True:
        line = read()
        if not lines and command_of(line):
            return line.strip()
        if not line.strip():
            if lines or submit_empty:
                return "\n".join(lines).rstrip()
            echo(">>> ")
            continue
        lines.append(line.rstrip("\n"))
        echo("... ")


def edit_file(path: Path) -> bool:
    """Open ``path`` itself in $VISUAL / $EDITOR; False when no editor works."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        return False
    try:
        return subprocess.run([*shlex.split(editor), str(path)], check=False).returncode == 0
    except (OSError, ValueError):
        return False


def edit_in_editor(initial: str) -> str | None:
    """The learner's code written in $VISUAL / $EDITOR from ``initial``; None when no editor works."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as handle:
        handle.write(initial)
        path = Path(handle.name)
    try:
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if done.returncode != 0:
            return None
        return path.read_text(encoding="utf-8").rstrip()
    except (OSError, ValueError):
        return None
    finally:
        path.unlink(missing_ok=True)
