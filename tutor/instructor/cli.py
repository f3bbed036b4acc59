"""The instructor's and lesson author's commands, for the main CLI to mount.

``tutor/cli.py`` mounts them::

    from tutor.instructor.cli import class_app, export_command, rehearse_command
    app.add_typer(class_app, name="class")         # tutor class report / tutor class check
    app.command("export")(export_command)          # tutor export
    lessons_app.command("rehearse")(rehearse_command)   # or call it from `lessons check --rehearse`

Only typer is imported at the top: the work (and pandas, when a rehearsal runs a step) is
imported inside the commands, so ``tutor --help`` stays fast. Errors are
:class:`~tutor.errors.TutorError`s shown by the main CLI's ``handled`` (a panel saying what was
wrong and what to do, an exit code, never a traceback).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

# Exit codes of `tutor class report` / `tutor class check`.
EXIT_OK = 0
EXIT_ATTENTION = 1  # report --stuck: someone is stuck; check: some progress does not hang together
EXIT_USAGE = 2
EXIT_NO_FILES = 3
EXIT_NO_COURSE = 4

class_app = typer.Typer(
    help="For instructors: the class at a glance from the learners' progress files.",
    no_args_is_help=True,
)


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


class SortKey(str, Enum):
    learner = "learner"
    progress = "progress"
    activity = "activity"
    failures = "failures"
    hints = "hints"
    time = "time"
    flags = "flags"


class State(str, Enum):
    not_started = "not-started"
    in_progress = "in-progress"
    finished = "finished"


class ExportFormat(str, Enum):
    py = "py"
    ipynb = "ipynb"


FoldersArg = Annotated[list[Path], typer.Argument(
    help="Folders holding progress files (*.json; a course folder's progress/ is read too), or the files.",
    show_default=False)]
LearnerOpt = Annotated[Optional[list[str]], typer.Option(
    "--learner", "-l", help="Only learners whose name matches this pattern (e.g. 'a*'); repeatable.")]
PlainOpt = Annotated[bool, typer.Option("--plain", help="No colours, ASCII only.")]
NowOpt = Annotated[Optional[str], typer.Option(
    "--now", help="Report as if it were this time (ISO 8601, e.g. 2026-05-04T17:00:00+00:00): for an old collection.")]


def _handled(console: Any) -> Any:
    from tutor.cli_common import handled

    return handled(console)


def _consoles(plain: bool) -> tuple[Any, Any]:
    from tutor import ui

    return ui.make_console(plain=plain), ui.make_console(plain=plain, stderr=True)


def _now(value: str | None) -> Any:
    from datetime import datetime, timezone

    from tutor.errors import UsageError
    from tutor.instructor.evidence import parse_time

    if value is None:
        return datetime.now(timezone.utc)
    stamp = parse_time(value)
    if stamp is None:
        raise UsageError(f"--now {value}: not a date and time.", "Write it in ISO 8601, e.g. 2026-05-04T17:00:00+00:00.")
    return stamp


def _load(folders: list[Path], now: Any, stuck: float | None, max_failures: int, err: Any) -> Any:
    """Build the report; list the files that were skipped on ``err``; no readable file is an error."""
    from rich.text import Text

    from tutor.instructor.report import NoProgressFiles, build_report

    report = build_report(folders, now=now, stuck_minutes=stuck, max_failures=max_failures)
    for skipped in report.skipped_files:
        err.print(Text.assemble(("skipped ", "bold yellow"), (skipped.file, "cyan"), f": {skipped.reason}"),
                  highlight=False)
    if not report.rows:
        where = ", ".join(str(f) for f in folders)
        found = f" ({len(report.skipped_files)} file(s) skipped, see above)" if report.skipped_files else ""
        raise NoProgressFiles(f"No readable progress file in {where}{found}.",
                              "Point at the folder where the learners' <username>.json files are (or at course "
                              "folders: their progress/ folder is read).")
    names: dict[str, int] = {}
    for row in report.rows:
        names[row.learner] = names.get(row.learner, 0) + 1
    for name, count in sorted(names.items()):
        if count > 1:
            err.print(f"note: learner '{name}' appears in {count} files; each is a row.", highlight=False)
    return report


def _write(text: str, output: Path | None, err: Any, *, announce: bool = True) -> None:
    from tutor.errors import UsageError

    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot write {output} ({exc.strerror or exc}).",
                         "Choose a writable place with --output.") from None
    if announce:
        err.print(f"Wrote {output}", highlight=False)


@class_app.command("report")
def report_command(
    folders: FoldersArg,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="table (the screen), json, csv or html (one page).")]
    = ReportFormat.table,
    stuck: Annotated[Optional[float], typer.Option(
        "--stuck", help="List learners with no activity for this many minutes, or --max-failures failed attempts "
                        "at one step; exit 1 if there are any.", min=0)] = None,
    max_failures: Annotated[int, typer.Option("--max-failures", help="Failed attempts at one step that count as stuck.",
                                              min=1)] = 3,
    sort: Annotated[SortKey, typer.Option("--sort", "-s", help="learner (A-Z), progress (least first), activity "
                                          "(longest idle first), failures, hints, time, flags (most first).")]
    = SortKey.learner,
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")] = False,
    learner: LearnerOpt = None,
    state: Annotated[Optional[list[State]], typer.Option("--state", help="Only learners in this state; repeatable.")]
    = None,
    at: Annotated[Optional[str], typer.Option("--at", help="Only learners whose current step is in this lesson "
                                              "(or is this lesson/step).")] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only learners whose progress fails an evidence check.")]
    = False,
    only_stuck: Annotated[bool, typer.Option("--only-stuck", help="Only the learners --stuck lists.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file "
                                                   "(default: standard output).", dir_okay=False)] = None,
    now: NowOpt = None,
    plain: PlainOpt = False,
) -> None:
    """The class at a glance: one row per learner.

    Steps and lessons done, current step, skips, failures, hints, time spent, last activity, key
    evidence (best R², test accuracy, AutoML RMSE, service) and the evidence checks.

    Exit codes: 0 ok; 1 --stuck found stuck learners; 2 bad usage; 3 no readable progress file;
    4 the course's lessons cannot be loaded. Unreadable files are listed on stderr and skipped.
    """
    from tutor.errors import UsageError
    from tutor.instructor import report as rep

    out, err = _consoles(plain)
    with _handled(err):
        if only_stuck and stuck is None:
            raise UsageError("--only-stuck needs --stuck MINUTES (how long without activity counts as stuck).",
                             "For example: tutor class report DIR --stuck 20 --only-stuck")
        report = _load(folders, _now(now), stuck, max_failures, err)
        shown = rep.select(report, learners=learner, states=[s.value for s in state or []], at=at, flagged=flagged,
                           stuck_only=only_stuck, sort=sort.value, reverse=reverse)
        if fmt is ReportFormat.table:
            if output is not None:
                raise UsageError("--output writes json, csv or html; the table is for the screen.",
                                 "Add --format html (or json, csv), or leave out --output.")
            rep.to_table(shown, out)
        else:
            render = {ReportFormat.json: rep.to_json, ReportFormat.csv: rep.to_csv, ReportFormat.html: rep.to_html}[fmt]
            _write(render(shown), output, err)
    if stuck is not None and shown.stuck:
        raise typer.Exit(EXIT_ATTENTION)


@class_app.command("check")
def check_command(
    folders: FoldersArg,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="table or json.")] = CheckFormat.table,
    learner: LearnerOpt = None,
    now: NowOpt = None,
    plain: PlainOpt = False,
) -> None:
    """List progress that does not hang together.

    Steps done without their evidence, implausible metrics, times out of order, steps done faster
    than possible.

    Exit codes: 0 nothing flagged; 1 something flagged; 2 bad usage; 3 no readable progress file;
    4 the course's lessons cannot be loaded.
    """
    from tutor.instructor import report as rep

    out, err = _consoles(plain)
    with _handled(err):
        report = rep.select(_load(folders, _now(now), None, 3, err), learners=learner)
        if fmt is CheckFormat.json:
            sys.stdout.write(rep.flags_json(report))
        else:
            rep.flags_table(report, out)
    if report.flagged:
        raise typer.Exit(EXIT_ATTENTION)


def export_command(
    username: Annotated[Optional[str], typer.Option("--username", "-u", help="The learner (default: the only one "
                                                    "in the course folder).")] = None,
    course_dir: Annotated[Path, typer.Option("--course-dir", "-C", help="The learner's course folder.",
                                             file_okay=False)] = Path("."),
    fmt: Annotated[Optional[ExportFormat], typer.Option("--format", "-f", help="py (a script with # %% cells) or "
                                                        "ipynb (a notebook); default: from --output, else ipynb.")]
    = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Where to write it ('-': standard output; "
                                                   "default: <course-dir>/<username>-course.<format>).",
                                                   dir_okay=False)] = None,
) -> None:
    """Your path as a runnable script or notebook.

    The code of each step you finished, in course order, with what it recorded, and how to redo it
    on Azure ML.
    """
    from tutor.errors import TutorError, UsageError
    from tutor.instructor.export import export_text
    from tutor.lessons import load_course

    _, err = _consoles(False)
    with _handled(err):
        from tutor.cli_common import learner_document

        name, cdir, doc = learner_document(username, course_dir)
        if fmt is None:
            suffix = output.suffix.lower() if output is not None else ""
            if output is not None and str(output) != "-" and suffix not in (".py", ".ipynb"):
                raise UsageError(f"--output {output}: say which format to write.",
                                 "Name the file .py or .ipynb, or add --format py|ipynb.")
            fmt = ExportFormat.py if suffix == ".py" else ExportFormat.ipynb
        text, steps = export_text(doc, load_course(), fmt=fmt.value, course_dir=cdir.root)
        if steps == 0:
            raise TutorError(f"{name} has not finished any step yet, so there is nothing to export.",
                             f"Run some steps first: tutor start --username {name} --course-dir {cdir.root}")
        target = output if output is not None else cdir.root / f"{name}-course.{fmt.value}"
        _write(text, target, err, announce=False)
        if str(target) != "-":
            run = f"cd {cdir.root} && python {target.resolve()}" if fmt is ExportFormat.py else \
                "open it in Jupyter or VS Code (or upload it to Azure ML studio's Notebooks) and run the cells in order"
            err.print(f"Wrote {target}: {steps} step(s) of {name}'s path. To run it: {run}.", highlight=False)


def rehearse_command(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Lesson files to rehearse (default: the shipped "
                                                          "lessons). Each replaces the shipped lesson with its id.",
                                                          show_default=False)] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="A local copy of green_taxi_data.parquet "
                                                 "(else TUTOR_DATA, the cache, or a download).", dir_okay=False)] = None,
    alone: Annotated[bool, typer.Option("--alone", help="Rehearse only FILES, without the shipped lessons before "
                                        "them as setup.")] = False,
    keep: Annotated[Optional[Path], typer.Option("--keep", help="Rehearse in this folder and keep it (default: a "
                                                 "temporary folder, removed afterwards).", file_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Also print the outcomes as JSON on standard output.")]
    = False,
    exercises: Annotated[bool, typer.Option("--exercises/--no-exercises", help="Run each exercise's reference "
                                            "solution as a learner's answer, through its checks (the default).")]
    = True,
    sdk: Annotated[str, typer.Option("--sdk", help="The SDK track to rehearse: v1 (azureml-core) or v2 "
                                     "(azure-ai-ml: the python_v2 code and the v2 exercises).", metavar="v1|v2")]
    = "v1",
    plain: PlainOpt = False,
) -> None:
    """Rehearse lessons step by step on a scratch course folder.

    Validates the lesson files, then runs them as `tutor start --yes --exercises` would, reporting
    each step: ok or FAIL, its time and why it failed. An exercise's reference solution runs as a
    learner's answer and must pass its own checks.

    Exit codes: 0 every step passed; 1 a step failed; 2 bad usage; 3 a lesson file is invalid;
    5 the dataset cannot be found.
    """
    import json

    from tutor import dataset
    from tutor.instructor.rehearse import print_summary, rehearse

    out, err = _consoles(plain)
    with _handled(err):
        from tutor.errors import UsageError
        from tutor.progress import SDKS

        track = sdk.strip().lower()
        if track not in SDKS:
            raise UsageError(f"--sdk {sdk}: there is no such SDK track.",
                             "Pass --sdk v1 (azureml-core, the original course) or --sdk v2 (azure-ai-ml).")
        found = dataset.locate(data)
        screen = err if as_json else out
        outcomes = rehearse(list(files or []), found.path, screen, alone=alone, scratch=keep, exercises=exercises,
                            sdk=track)
        print_summary(screen, outcomes)
        if keep is not None:
            screen.print(f"The rehearsal's course folder is kept in {keep}.", highlight=False)
        elif any(o.status == "fail" for o in outcomes):
            screen.print("To look at the files and logs of the failed steps, rehearse again with --keep DIR.",
                         highlight=False)
    if as_json:
        sys.stdout.write(json.dumps([o.as_dict() for o in outcomes], indent=2) + "\n")
    if any(o.status != "pass" for o in outcomes):
        raise typer.Exit(EXIT_ATTENTION)
