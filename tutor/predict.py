"""The prediction prompt: call a deployed scoring service and see what comes back.

``tutor predict`` opens it. A learner can fill a trip in field by field (the fields,
their types and defaults come from the service's swagger), paste raw JSON, or score a
whole CSV file; every call shows the prediction and how long it took, and every refusal
is explained in plain words. Commands start with a colon (``:help`` lists them).

The prompt reads its input through a :class:`Prompter`: :class:`QuestionaryPrompter`
on a terminal, :class:`StreamPrompter` for any text stream (tests, scripts, a pipe), so
the whole REPL can be driven without a terminal.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TextIO

import requests
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from tutor.errors import TutorError
from tutor.serving.client import (
    CallResult,
    InputField,
    InputSpec,
    call_score,
    fetch_swagger,
    input_spec,
    parse_field,
    payload_from,
)
from tutor.serving.keys import mask

BATCH_ROWS_PER_REQUEST = 1000
TABLE_ROWS_SHOWN = 20
MAX_FIELD_TRIES = 3
HELP = """\
[bold]Enter[/] on an empty line   fill in a trip field by field (defaults from the swagger example)
[bold]{...}[/] or [bold][...][/]        send raw JSON: {"data": [{...}]} or just the list of rows
[bold]:sample[/]                  send the swagger's example as it is
[bold]:csv FILE [OUT][/]          score every row of a CSV file (OUT: write the predictions to a CSV)
[bold]:swagger [full][/]          the fields the service takes (full: the whole swagger document)
[bold]:keys [show][/]             the service's keys (hidden unless you add 'show')
[bold]:curl [show][/]             the last request as a curl command and as Python requests code
[bold]:history[/]                 the calls made in this session
[bold]:help[/]  [bold]:quit[/]"""


class Prompter(Protocol):
    """Where the REPL's input comes from."""

    def command(self, prompt: str) -> str | None:
        """The next command line; None at end of input."""

    def field(self, name: str, default: str, validate: Callable[[str], str | None]) -> str | None:
        """A value for one field (``default`` when left empty); None to abandon the form."""


class StreamPrompter:
    """Reads commands and field values line by line from a text stream (no terminal needed).

    An empty line takes a field's default; a value that does not validate is reported
    and the next line is read, up to three tries.
    """

    def __init__(self, stream: TextIO, console: Console, echo: bool = True) -> None:
        self.stream = stream
        self.console = console
        self.echo = echo

    def _line(self) -> str | None:
        line = self.stream.readline()
        if line == "":
            return None
        return line.rstrip("\r\n")

    def command(self, prompt: str) -> str | None:
        line = self._line()
        if line is not None and self.echo:
            self.console.print(f"{prompt}{line}", markup=False, highlight=False)
        return line

    def field(self, name: str, default: str, validate: Callable[[str], str | None]) -> str | None:
        for _ in range(MAX_FIELD_TRIES):
            line = self._line()
            if line is None:
                return None
            value = line.strip() or default
            if self.echo:
                self.console.print(f"  {name} [{default}]: {line.strip()}", markup=False, highlight=False)
            problem = validate(value)
            if problem is None:
                return value
            self.console.print(f"  [yellow]{problem}[/]")
        return None


class QuestionaryPrompter:
    """Interactive prompts on a terminal (questionary), with validation as you type."""

    def command(self, prompt: str) -> str | None:
        import questionary

        return questionary.text(prompt.strip(), qmark="").ask()

    def field(self, name: str, default: str, validate: Callable[[str], str | None]) -> str | None:
        import questionary

        return questionary.text(
            f"{name}:", default=default, qmark=" ", validate=lambda text: validate(text) or True
        ).ask()


@dataclass
class HistoryEntry:
    number: int
    mode: str
    result: CallResult

    def summary(self) -> str:
        if self.result.ok:
            return _summarize(self.result.predictions)
        return f"refused ({self.result.status})" if self.result.status else "no answer"


def _field_problem(text: str, spec: InputField) -> str | None:
    return parse_field(text, spec)[1]


def _summarize(predictions: Any, limit: int = 3) -> str:
    if isinstance(predictions, list):
        shown = ", ".join(_money(p) for p in predictions[:limit])
        return shown + (f", ... ({len(predictions)} in all)" if len(predictions) > limit else "")
    return json.dumps(predictions)[:60]


def _money(value: Any) -> str:
    return f"${value:,.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else json.dumps(value)


@dataclass
class ReplTarget:
    """Everything the prompt needs to know about the service it talks to."""

    scoring_uri: str
    key: str | None
    swagger: dict[str, Any] | None
    keys: tuple[str, str] | None = None
    name: str = ""


def target_from_service(service_dir: Path | str) -> ReplTarget:
    """The prompt's target for a local service folder (its URI, keys and swagger).

    Raises :class:`TutorError` when the service is not Healthy, saying what to do.
    """
    from tutor import serving

    info = serving.get_state(service_dir)
    if info.state != serving.HEALTHY:
        raise TutorError(
            f"The service {info.name!r} is {info.state}" + (f": {info.reason}" if info.reason else "."),
            "Deploy it (again) and wait until it is Healthy, then open the prediction prompt.",
        )
    keys = serving.get_keys(service_dir) if info.config.auth_enabled else None
    return ReplTarget(
        scoring_uri=info.scoring_uri,
        key=keys[0] if keys else None,
        swagger=fetch_swagger(info.scoring_uri),
        keys=keys,
        name=info.name,
    )


class PredictionRepl:
    """The prompt's state and commands (see the module docstring)."""

    def __init__(self, target: ReplTarget, console: Console, prompter: Prompter) -> None:
        self.target = target
        self.console = console
        self.prompter = prompter
        self.spec: InputSpec | None = input_spec(target.swagger)
        self.history: list[HistoryEntry] = []
        self.last_payload: Any = None
        self.session = requests.Session()

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> list[HistoryEntry]:
        self._banner()
        try:
            while True:
                line = self.prompter.command("predict> ")
                if line is None:
                    break
                if not self.handle(line.strip()):
                    break
        finally:
            self.session.close()
        return self.history

    def handle(self, line: str) -> bool:
        """Run one command line; False to leave the prompt."""
        if line in (":quit", ":q", ":exit", "quit", "exit"):
            return False
        if not line or line == ":form":
            self.form()
        elif line.startswith(("{", "[")):
            self.raw(line)
        elif line.startswith(":"):
            self.command(line)
        else:
            self.console.print(f"[yellow]Not a command or JSON:[/] {line!r}. Type :help for the commands.")
        return True

    def command(self, line: str) -> None:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            self.console.print(f"[yellow]Could not read that command ({exc}).[/]")
            return
        name, args = words[0], words[1:]
        show = bool(args) and args[0] == "show"
        if name == ":help":
            self.console.print(HELP)
        elif name == ":sample":
            self.sample()
        elif name == ":json":
            text = self.prompter.command("json> ")
            if text:
                self.raw(text)
        elif name == ":csv":
            if not args:
                self.console.print("[yellow]Name the CSV file: :csv trips.csv [predictions.csv][/]")
            else:
                self.batch(Path(args[0]).expanduser(), Path(args[1]).expanduser() if len(args) > 1 else None)
        elif name == ":swagger":
            self.show_swagger(full=bool(args) and args[0] == "full")
        elif name == ":keys":
            self.show_keys(show)
        elif name == ":curl":
            self.show_curl(show)
        elif name == ":history":
            self.show_history()
        else:
            self.console.print(f"[yellow]Unknown command {name}.[/] Type :help for the commands.")

    # -- sending ----------------------------------------------------------------------
    def send(self, payload: Any, mode: str) -> CallResult:
        self.last_payload = payload
        result = call_score(self.target.scoring_uri, self.target.key, payload, session=self.session)
        self.history.append(HistoryEntry(len(self.history) + 1, mode, result))
        return result

    def report(self, result: CallResult) -> None:
        timing = f"{result.latency_ms:.1f} ms round trip"
        if result.run_ms is not None:
            timing += f", run() {result.run_ms:.1f} ms"
        if result.ok:
            predictions = result.predictions
            if isinstance(predictions, list) and len(predictions) == 1:
                self.console.print(f"[bold green]Predicted total fare: {_money(predictions[0])}[/]  [dim]({timing})[/]")
            else:
                self.console.print(f"[bold green]Predictions:[/] {_summarize(predictions, 10)}  [dim]({timing})[/]")
        else:
            status = f"HTTP {result.status}" if result.status else "no answer"
            self.console.print(f"[bold red]{status}[/] [dim]({timing})[/]")
            self.console.print(result.message, markup=False, soft_wrap=True)
            errors = result.body.get("errors") if isinstance(result.body, dict) else None
            if errors:
                for error in errors[:10]:
                    self.console.print(f"  row {error.get('row')}, {error.get('field')}: {error.get('problem')}",
                                       markup=False, soft_wrap=True)

    def form(self) -> None:
        if self.spec is None:
            self.console.print("[yellow]This service's swagger does not describe rows field by field; "
                               "paste the JSON instead (or :sample).[/]")
            return
        row: dict[str, Any] = {}
        self.console.print("[dim]One trip, field by field (Enter keeps the default):[/]")
        for spec in self.spec.fields:
            default = "" if spec.example is None else str(spec.example)
            text = self.prompter.field(spec.name, default, partial(_field_problem, spec=spec))
            if text is None:
                self.console.print("[yellow]Form abandoned; nothing was sent.[/]")
                return
            row[spec.name] = parse_field(text, spec)[0]
        self.report(self.send({self.spec.parameter: [row]}, "form"))

    def raw(self, text: str) -> None:
        try:
            payload = payload_from(text)
        except ValueError as exc:
            self.console.print(f"[yellow]That is not valid JSON ({exc}); nothing was sent.[/]")
            return
        self.report(self.send(payload, "json"))

    def sample(self) -> None:
        if self.spec is None or not self.spec.example:
            self.console.print("[yellow]The swagger has no example to send.[/]")
            return
        self.report(self.send(self.spec.example, "sample"))

    # -- batch --------------------------------------------------------------------------
    def batch(self, path: Path, out: Path | None) -> None:
        if self.spec is None:
            self.console.print("[yellow]CSV scoring needs the service's swagger to know the columns.[/]")
            return
        try:
            rows, actual, ignored = read_rows(path, self.spec)
        except (OSError, ValueError) as exc:
            self.console.print(f"[red]Cannot use {escape(str(path))}:[/] {escape(str(exc))}", highlight=False,
                               soft_wrap=True)
            return
        if ignored:
            self.console.print(f"[dim]Columns not sent (the model does not take them): {', '.join(ignored)}[/]")
        predictions: list[Any] = []
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH_ROWS_PER_REQUEST):
            chunk = rows[start:start + BATCH_ROWS_PER_REQUEST]
            result = self.send({self.spec.parameter: chunk}, f"csv rows {start + 1}-{start + len(chunk)}")
            if not result.ok:
                self.console.print(f"[red]Rows {start + 1}-{start + len(chunk)} were refused.[/]")
                self.report(result)
                return
            predictions.extend(result.predictions)
        elapsed = time.perf_counter() - started
        self._batch_table(rows, predictions, actual)
        requests_made = math.ceil(len(rows) / BATCH_ROWS_PER_REQUEST)
        line = (f"{len(rows)} rows scored in {requests_made} request(s), {elapsed * 1000:.0f} ms "
                f"({len(rows) / elapsed:,.0f} rows/s)")
        if actual is not None:
            errors = [p - a for p, a in zip(predictions, actual)]
            rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
            mae = sum(abs(e) for e in errors) / len(errors)
            line += f"; against the file's totalAmount: RMSE {rmse:.3f}, MAE {mae:.3f}"
        self.console.print(line)
        if out is not None:
            write_predictions(out, rows, predictions)
            self.console.print(f"Predictions written to {out}")

    def _batch_table(self, rows: list[dict[str, Any]], predictions: list[Any], actual: list[float] | None) -> None:
        assert self.spec is not None
        table = Table(title=f"Predictions ({min(len(rows), TABLE_ROWS_SHOWN)} of {len(rows)} rows shown)")
        table.add_column("#", justify="right")
        for spec in self.spec.fields:
            table.add_column(spec.name, justify="right")
        table.add_column("prediction", justify="right", style="bold")
        if actual is not None:
            table.add_column("totalAmount", justify="right")
        for index, (row, prediction) in enumerate(zip(rows[:TABLE_ROWS_SHOWN], predictions)):
            cells = [str(index + 1), *(str(row[s.name]) for s in self.spec.fields), _money(prediction)]
            if actual is not None:
                cells.append(_money(actual[index]))
            table.add_row(*cells)
        self.console.print(table)

    # -- information ----------------------------------------------------------------------
    def show_swagger(self, full: bool) -> None:
        if self.target.swagger is None:
            self.console.print("[yellow]The service published no swagger document.[/]")
            return
        if full:
            self.console.print(Syntax(json.dumps(self.target.swagger, indent=2), "json"))
            return
        if self.spec is None:
            self.console.print("The swagger does not list row fields; :swagger full shows all of it.")
            return
        table = Table(title=escape(f"POST {self.target.scoring_uri}  body: {{\"{self.spec.parameter}\": [rows]}}"))
        for column in ("field", "type", "example"):
            table.add_column(column)
        for spec in self.spec.fields:
            kind = spec.type + (f" ({spec.format})" if spec.format else "")
            table.add_row(spec.name, kind, json.dumps(spec.example))
        self.console.print(table)

    def show_keys(self, show: bool) -> None:
        keys = self.target.keys or ((self.target.key, "") if self.target.key else None)
        if not keys:
            self.console.print("This service does not use keys (deployed with auth_enabled=False).")
            return
        for label, key in zip(("primary", "secondary"), keys):
            if key:
                self.console.print(f"{label:9} {key if show else mask(key)}", markup=False, highlight=False)
        if not show:
            self.console.print("[dim](hidden; ':keys show' prints them in full)[/]")

    def show_curl(self, show: bool) -> None:
        payload = self.last_payload
        if payload is None and self.spec is not None:
            payload = self.spec.example
        body = json.dumps(payload if payload is not None else {"data": []})
        key_text = None
        lines = []
        if self.target.key:
            key_text = self.target.key if show else "<hidden: ':curl show' prints it>"
            shown = shlex.quote(self.target.key) if show else "<your key>"
            lines.append(f"SERVICE_KEY={shown}")
        lines += [f"curl -X POST {self.target.scoring_uri} \\", "  -H 'Content-Type: application/json' \\"]
        if key_text:
            lines.append('  -H "Authorization: Bearer $SERVICE_KEY" \\')
        lines.append(f"  -d {shlex.quote(body)}")
        self.console.print(Syntax("\n".join(lines), "bash", word_wrap=True))
        python = [
            "import json",
            "import requests",
            "",
            f"scoring_uri = {self.target.scoring_uri!r}",
        ]
        if key_text:
            python.append(f"key = {key_text!r}")
        python += [
            f"data = {body}",
            "headers = {'Content-Type': 'application/json'"
            + (", 'Authorization': 'Bearer ' + key}" if key_text else "}"),
            "response = requests.post(scoring_uri, json.dumps(data), headers=headers)",
            "print(response.status_code, response.json())",
        ]
        self.console.print(Syntax("\n".join(python), "python", word_wrap=True))

    def show_history(self) -> None:
        if not self.history:
            self.console.print("No calls yet.")
            return
        table = Table(title="Calls this session")
        for column in ("#", "mode", "rows", "status", "latency", "result"):
            table.add_column(column)
        for entry in self.history:
            result = entry.result
            table.add_row(
                str(entry.number), entry.mode, str(result.rows), str(result.status or "-"),
                f"{result.latency_ms:.1f} ms", entry.summary(),
            )
        self.console.print(table)

    def _banner(self) -> None:
        name = f" {self.target.name}" if self.target.name else ""
        auth = "key auth on" if self.target.key else "no key needed"
        self.console.print(f"[bold]Prediction prompt[/] for service{name} at {self.target.scoring_uri} ({auth}).")
        self.console.print("[dim]Enter: fill in a trip; paste JSON; :csv FILE; :help for all commands; :quit.[/]")


def read_rows(path: Path, spec: InputSpec) -> tuple[list[dict[str, Any]], list[float] | None, list[str]]:
    """The CSV's rows converted to the service's field types.

    Returns ``(rows, totalAmount or None, ignored columns)``. Raises ``ValueError`` naming
    the line and column of the first bad value, or the columns the file lacks.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [f.name for f in spec.fields if f.name not in columns]
        if missing:
            raise ValueError(f"the file has no column(s) {', '.join(missing)} (it has: {', '.join(columns)})")
        names = {f.name for f in spec.fields}
        ignored = [c for c in columns if c not in names]
        has_actual = "totalAmount" in columns
        rows: list[dict[str, Any]] = []
        actual: list[float] = []
        for line_number, record in enumerate(reader, start=2):
            row: dict[str, Any] = {}
            for field_spec in spec.fields:
                value, problem = parse_field(record[field_spec.name] or "", field_spec)
                if problem:
                    raise ValueError(f"line {line_number}, column {field_spec.name}: {problem} "
                                     f"(found {record[field_spec.name]!r})")
                row[field_spec.name] = value
            rows.append(row)
            if has_actual:
                try:
                    actual.append(float(record["totalAmount"]))
                except (TypeError, ValueError):
                    has_actual = False
    if not rows:
        raise ValueError("the file has a header but no rows")
    return rows, (actual if has_actual else None), ignored


def write_predictions(path: Path, rows: list[dict[str, Any]], predictions: list[Any]) -> None:
    """The rows with a ``prediction`` column, as CSV."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].keys(), "prediction"])
        writer.writeheader()
        for row, prediction in zip(rows, predictions):
            writer.writerow({**row, "prediction": prediction})


def predict_once(scoring_uri: str, key: str | None, data_json: str | list[Any] | dict[str, Any],
                 *, timeout: float = 30.0) -> dict[str, Any]:
    """One call, no prompt (``tutor predict --data JSON``): the outcome as a JSON-safe dict.

    Keys: ``ok``, ``status``, ``latency_ms``, ``run_ms``, ``rows``, ``predictions`` and
    ``message`` (the plain-words explanation when the call was refused or failed).
    Raises ``ValueError`` when ``data_json`` is not valid JSON (nothing is sent then).
    """
    return call_score(scoring_uri, key, data_json, timeout=timeout).to_dict()


def run_repl(
    scoring_uri: str,
    key: str | None,
    swagger: dict[str, Any] | None,
    console: Console,
    prompter: Prompter | None = None,
    *,
    keys: tuple[str, str] | None = None,
    name: str = "",
) -> list[HistoryEntry]:
    """Open the prediction prompt; returns the calls made. ``prompter`` defaults to questionary."""
    target = ReplTarget(scoring_uri=scoring_uri, key=key, swagger=swagger, keys=keys, name=name)
    return PredictionRepl(target, console, prompter or QuestionaryPrompter()).run()

