"""The ``tutor`` command line (Typer).

Flags here are a contract: instructors' scripts and the tests drive them. Keep the
imports at the top light (no pandas, scikit-learn or Azure SDK) so ``tutor --help``
answers at once; the steps import what they need when they run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tutor import __version__, ui
from tutor.errors import ProgressError, UsageError
from tutor.paths import CourseDir
from tutor.cli_common import handled, learner_document  # noqa: F401 - learner_document: also tutor.cli's API
from tutor.cli_common import resolve_username as _resolve_username

app = typer.Typer(
    name="tutor",
    help="An interactive tutor for the Azure Machine Learning taxi-fare course. "
         "It runs every step for real, on an embedded local workspace (no Azure account needed) or on Azure ML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
lessons_app = typer.Typer(help="The course outline, and tools for lesson authors.", invoke_without_command=True)
app.add_typer(lessons_app, name="lessons")

# Instructors' and lesson authors' commands (tutor/instructor/): light to import.
from tutor.instructor.cli import class_app, export_command, rehearse_command  # noqa: E402

app.add_typer(class_app, name="class")
app.command("export")(export_command)
lessons_app.command("rehearse")(rehearse_command)


# -- shared options ---------------------------------------------------------------------------
UsernameOpt = Annotated[Optional[str], typer.Option("--username", "-u", help="The learner's name (1-8 lower-case letters/digits).")]
CourseDirOpt = Annotated[Path, typer.Option("--course-dir", "-C", help="Where the learner's files go (progress, data, scripts, workspace).",
                                            file_okay=False)]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Answer every prompt with its default; needs no terminal.")]
PlainOpt = Annotated[bool, typer.Option("--plain", help="No colours, no animation, ASCII only; numbered menus instead of arrow keys.")]


def _version(value: bool) -> None:
    if value:
        print(f"aml-tutor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """aml-tutor."""


def _err_console(plain: bool = False) -> Console:
    return ui.make_console(plain=plain, stderr=True)


def _load_course():
    from tutor.lessons import load_course

    return load_course()


# -- start ----------------------------------------------------------------------------------------
@app.command()
def start(
    username: UsernameOpt = None,
    workspace: Annotated[Optional[str], typer.Option("--workspace", "-w", help="'local' for the embedded workspace, or the path of an Azure ML config.json.")] = None,
    course_dir: CourseDirOpt = Path("."),
    lesson: Annotated[Optional[str], typer.Option("--lesson", "-l", help="Work on this lesson only (see `tutor lessons`).")] = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="A local copy of green_taxi_data.parquet (else TUTOR_DATA, the cache, or a download).", dir_okay=False)] = None,
    yes: YesOpt = False,
    plain: PlainOpt = False,
    exercises: Annotated[Optional[bool], typer.Option("--exercises/--no-exercises", help="Write the exercise steps' code yourself (the default at a terminal); with --yes the reference solutions run.")] = None,
    sdk: Annotated[Optional[str], typer.Option("--sdk", help="The SDK the steps' code is shown in: v1 (azureml-core, the original course) or v2 (azure-ai-ml). Remembered in the progress file.", metavar="v1|v2")] = None,
) -> None:
    """Start the course, or continue where you stopped."""
    from tutor.progress import Progress
    from tutor.prompts import Choice, Quit, make_prompter
    from tutor.steps.base import Settings
    from tutor.wizard import Wizard

    from tutor.progress import SDK_NAMES, SDKS

    console = ui.make_console(plain=plain)
    with handled(console):
        if sdk is not None and sdk.strip().lower() not in SDKS:
            raise UsageError(f"--sdk {sdk}: there is no such SDK track.",
                             "Pass --sdk v1 (azureml-core, the original course) or --sdk v2 (azure-ai-ml).")
        sdk = sdk.strip().lower() if sdk is not None else None
        course = _load_course()
        if lesson is not None:
            course.lesson(lesson)  # a clear error for an unknown lesson, before any prompt
        cdir = CourseDir(course_dir)
        prompter = make_prompter(console, assume_yes=yes, plain=plain)
        try:
            name = _resolve_username(username, cdir, prompter)
            _check_writable(cdir)
            path = cdir.progress_file(name)
            recorded = _recorded_workspace(path)
            if workspace is None:
                found = _discovered_azure_config(cdir)
                default_ws = recorded or found or "local"
                if prompter.interactive and recorded is None:
                    choices = [Choice("local", "The embedded local workspace (no Azure account needed)", "l"),
                               Choice("config", "An Azure ML workspace (I have a config.json)", "a")]
                    if found:
                        choices.insert(0, Choice(found, f"The Azure ML workspace of {found}", "f"))
                    workspace = prompter.choose("Which workspace?", choices, default_ws)
                    if workspace == "config":
                        workspace = prompter.text("Path of the workspace's config.json", "config.json",
                                                  validate=lambda p: None if Path(p).expanduser().is_file()
                                                  else f"There is no file {p}.")
                    if sdk is None:
                        sdk = prompter.choose("Which SDK should the code be in?", [
                            Choice("v1", f"SDK v1 ({SDK_NAMES['v1']}), as the original course", "1"),
                            Choice("v2", f"SDK v2 ({SDK_NAMES['v2']}), what Azure ML teaches today", "2")], "v1")
                else:
                    workspace = default_ws
        except Quit:
            console.print("Nothing started.")
            raise typer.Exit(0) from None
        if workspace != "local":
            ws_path = Path(workspace).expanduser()
            if not ws_path.is_file():
                raise UsageError(f"--workspace {workspace}: there is no such config file.",
                                 "Pass 'local' for the embedded workspace, or the path of your workspace's config.json.")
            workspace = str(ws_path.resolve())
        settings = Settings(username=name, course_dir=cdir, workspace=workspace, data=data, assume_yes=yes)
        ws_kind, ws_name = _workspace_identity(settings)
        with Progress.open(path, name, workspace_kind=ws_kind, workspace_name=ws_name) as progress:
            progress.set_workspace(ws_kind, ws_name, None if workspace == "local" else workspace)
            progress.set_sdk(sdk or progress.sdk)
            progress.save()
            console.print(Text(f"aml-tutor {__version__} · learner {name} · workspace {ws_name} ({ws_kind}) · "
                               f"SDK {progress.sdk} ({SDK_NAMES[progress.sdk]}) · course folder {cdir.root}",
                               style="dim"))
            wizard = Wizard(course, settings, progress, console, prompter, exercises=exercises)
            try:
                outcome = wizard.run(lesson)
            finally:
                wizard.close()
        raise typer.Exit(outcome.exit_code)


def _check_writable(cdir: CourseDir) -> None:
    """Refuse, before any prompt or step, a course folder the tutor cannot write in."""
    import tempfile

    from tutor.progress import unwritable

    folder = cdir.root
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for folder in (cdir.root, cdir.progress):
            if folder.is_dir():
                with tempfile.TemporaryFile(dir=folder, prefix=".tutor-write-check-"):
                    pass
    except OSError as exc:
        raise unwritable(folder, exc) from None


def _recorded_workspace(path: Path) -> str | None:
    from tutor.progress import read_document

    try:
        doc = read_document(path)
    except (FileNotFoundError, ProgressError):
        return None
    return _workspace_of(doc)


def _workspace_of(doc: dict[str, Any]) -> str | None:
    """The --workspace value a progress document records: "local", a config path, or None."""
    ws = doc.get("workspace") or {}
    if ws.get("kind") == "local" and not ws.get("config"):
        return "local"
    config = ws.get("config")
    return config if config and Path(config).is_file() else None


def _discovered_azure_config(cdir: CourseDir) -> str | None:
    """An Azure config.json found the way Workspace.from_config looks (the folder, .azureml/,
    parents); a config written for an embedded workspace does not count (it is someone's own)."""
    from tutor.workspace.azure.config import find_config

    found = find_config(cdir.root)
    if found is None:
        return None
    try:
        config = json.loads(found.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    from tutor.workspace.azure.config import embedded_folder

    if not isinstance(config, dict) or embedded_folder(config) or not config.get("workspace_name"):
        return None
    return str(found)


def _workspace_identity(settings: Any) -> tuple[str, str]:
    if settings.workspace == "local":
        return "local", f"{settings.username}-ws"
    try:
        config = json.loads(Path(settings.workspace).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{settings.workspace} is not a readable workspace config ({exc}).",
                         "Download config.json again from the Azure portal (workspace overview), or use --workspace local.") from None
    if not isinstance(config, dict):
        raise UsageError(f"{settings.workspace} is not a workspace config (expected a JSON object).",
                         "Download config.json again from the Azure portal.")
    from tutor.workspace.azure.config import embedded_folder

    folder = embedded_folder(config)
    if folder is not None:
        return "local", str(config.get("workspace_name") or folder.name)
    return "azure", str(config.get("workspace_name") or "?")


# -- status ----------------------------------------------------------------------------------------
def status_report(course: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of ``tutor status --json`` (also used by the text view)."""
    steps_out = []
    current_found = False
    totals = {"done": 0, "skipped": 0, "failed": 0, "running": 0, "pending": 0}
    for lesson in course.lessons:
        for step in lesson.steps:
            entry = doc["steps"].get(step.key) or {}
            status = entry.get("status") or "pending"
            if status == "running":
                status_shown = "interrupted"
            else:
                status_shown = status
            is_current = False
            if not current_found and status not in ("done", "skipped"):
                is_current = current_found = True
            totals[status if status in totals else "pending"] += 1
            steps_out.append({
                "key": step.key,
                "lesson": lesson.id,
                "step": step.id,
                "title": step.title,
                "status": status_shown,
                "current": is_current,
                "attempts": entry.get("attempts", 0),
                "failures": entry.get("failures", 0),
                "hints_used": entry.get("hints_used", 0),
                "duration_s": entry.get("duration_s"),
                "time_spent_s": entry.get("time_spent_s", 0.0),
                "started_at": entry.get("started_at"),
                "finished_at": entry.get("finished_at"),
                "evidence": entry.get("evidence") or {},
                "question": entry.get("question"),
                # The exercise: how it ended (solved, skipped, open, solved-by-reference), attempts,
                # hints, time, and the learner's accepted code. None for a step with no exercise.
                "exercise": entry.get("exercise") if step.exercise is not None else None,
                "error": entry.get("error") if status == "failed" else None,
                # A failed attempt that ran: the done_when conditions its evidence did not meet.
                "unmet": entry.get("unmet") if status == "failed" else None,
            })
    return {
        "learner": doc["learner"],
        "workspace": doc.get("workspace") or {},
        "schema_version": doc.get("schema_version"),
        "updated_at": doc.get("updated_at"),
        "totals": {**totals, "steps": len(steps_out)},
        "time_spent_s": round(sum(s["time_spent_s"] or 0 for s in steps_out), 3),
        "current_step": next((s["key"] for s in steps_out if s["current"]), None),
        "steps": steps_out,
    }


def _exercise_brief(record: dict[str, Any] | None) -> str:
    """An exercise in a few words: "solved, 2 tries, 1 hint"; "" for a step without one."""
    if record is None:
        return ""
    status = str(record.get("status", "open")).replace("solved-by-reference", "reference ran")
    tries = int(record.get("attempts", 0))
    hints = int(record.get("hints_used", 0))
    parts = [status] + ([f"{tries} {'try' if tries == 1 else 'tries'}"] if tries else []) + \
        ([f"{hints} {'hint' if hints == 1 else 'hints'}"] if hints else [])
    return ", ".join(parts)


def _evidence_brief(evidence: dict[str, Any], limit: int = 70) -> str:
    parts = []
    for key, value in evidence.items():
        if isinstance(value, (dict, list)):
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{key}={value}")
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
def status(
    username: UsernameOpt = None,
    course_dir: CourseDirOpt = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    plain: PlainOpt = False,
) -> None:
    """Every lesson and step: done, current, skipped or failed, with time spent and evidence."""
    console = ui.make_console(plain=plain)
    with handled(_err_console(plain)):
        _, _, doc = learner_document(username, course_dir)
        report = status_report(_load_course(), doc)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    marks = {"done": ("✓ done", "green"), "skipped": ("» skipped", "yellow"), "failed": ("✗ failed", "red"),
             "interrupted": ("… interrupted", "yellow"), "pending": ("· to do", "dim")}
    table = Table(title=f"{report['learner']} · workspace {report['workspace'].get('name')} "
                        f"({report['workspace'].get('kind')})", box=ui.boxes(console), title_justify="left")
    for col in ("step", "status", "time", "tries", "hints", "your code", "evidence"):
        table.add_column(col, justify="right" if col in ("time", "tries", "hints") else "left",
                         no_wrap=col != "evidence", overflow="fold" if col == "evidence" else "ellipsis")
    for s in report["steps"]:
        label, style = marks.get(s["status"], (s["status"], ""))
        if s["current"]:
            label, style = ("→ current" if s["status"] == "pending" else label + " (current)"), "bold cyan"
        spent = s["time_spent_s"] or 0
        table.add_row(s["key"], Text(label, style=style), f"{spent:.1f}s" if spent else "", str(s["attempts"] or ""),
                      str(s["hints_used"] or ""), _exercise_brief(s["exercise"]), _evidence_brief(s["evidence"]))
    from tutor import journey

    course = _load_course()
    viewed = journey.DocProgress(doc)
    current = next((s["lesson"] for s in report["steps"] if s["current"]), None)
    console.print(journey.map_table(course, viewed, console, current))
    console.print(table)
    t = report["totals"]
    console.print(f"{t['done']} of {t['steps']} steps done, {t['skipped']} skipped, {t['failed']} failed; "
                  f"{report['time_spent_s']:.0f}s of work; about {journey.duration_text(journey.minutes_left(course, viewed))} "
                  "left.", highlight=False)


# -- review ----------------------------------------------------------------------------------------
@app.command()
def review(
    lesson: Annotated[Optional[str], typer.Argument(help="The lesson to re-read (e.g. day1-setup); without it, the lessons are listed.", metavar="LESSON", show_default=False)] = None,
    username: UsernameOpt = None,
    course_dir: CourseDirOpt = Path("."),
    plain: PlainOpt = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Print it all at once, even at a terminal.")] = False,
) -> None:
    """Re-read a lesson you worked through: explanations, your code, what each step measured. Nothing runs."""
    from tutor import review as rv

    console = ui.make_console(plain=plain)
    with handled(_err_console(plain)):
        course = _load_course()
        chosen = rv.find_lesson(course, lesson) if lesson is not None else None  # a bad id before the progress
        name, cdir, doc = learner_document(username, course_dir)
    if chosen is None:
        rv.show(console, rv.lesson_list(console, course, doc), page=False)
        return
    variables = {"username": name, "workspace": str((doc.get("workspace") or {}).get("name") or ""),
                 "course_dir": str(cdir.root)}
    again = f"`tutor start --lesson {chosen.id} --username {name} --course-dir {cdir.root}`"
    rv.show(console, rv.review_lesson(console, chosen, doc, variables, again),
            page=not no_pager and rv.stdout_is_terminal())


# -- lessons ------------------------------------------------------------------------------------------
@lessons_app.callback()
def lessons(ctx: typer.Context, plain: PlainOpt = False) -> None:
    """The course outline: lessons and their steps."""
    if ctx.invoked_subcommand is not None:
        return
    console = ui.make_console(plain=plain)
    with handled(console):
        course = _load_course()
    for lesson in course.lessons:
        table = Table(title=f"Day {lesson.day} · {lesson.title}  [{lesson.id}]", box=ui.boxes(console),
                      title_justify="left", show_header=False)
        table.add_column("id", style="cyan")
        table.add_column("title")
        table.add_column("ref", style="dim")
        for step in lesson.steps:
            table.add_row(step.key, step.title, step.ref)
        console.print(table)


@lessons_app.command("check")
def lessons_check(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Lesson files to check (default: the shipped lessons).")] = None,
    rehearse: Annotated[bool, typer.Option("--rehearse", help="Then run them step by step on a scratch course folder (as `tutor lessons rehearse`).")] = False,
    data: Annotated[Optional[Path], typer.Option("--data", help="With --rehearse: a local copy of the dataset.", dir_okay=False)] = None,
) -> None:
    """Validate lesson files: fields, ids, actions, parameters, templates, questions."""
    from tutor.errors import LessonError
    from tutor.lessons import load_course, load_lesson, v2_exercise_gaps, v2_gaps

    console = ui.make_console()
    if rehearse:
        rehearse_command(files=files, data=data)
        return
    with handled(console):
        if files:
            for f in files:
                lesson = load_lesson(f)
                console.print(f"ok  {f}  ({lesson.id}: {len(lesson.steps)} steps)", highlight=False)
            if len(files) > 1:
                load_course(list(files))
        else:
            course = load_course()
            for lesson in course.lessons:
                console.print(f"ok  {lesson.path.name}  ({lesson.id}: {len(lesson.steps)} steps)", highlight=False)
            gaps = v2_gaps(course)
            if gaps:
                raise LessonError(f"These steps' Python uses SDK v1 and has no SDK v2 form: {', '.join(gaps)}.",
                                  "Write each one's python_v2 code (azure-ai-ml) beside its python code.")
            missing = v2_exercise_gaps(course)
            if missing:
                raise LessonError(f"These steps have an exercise in SDK v1 and none in SDK v2: {', '.join(missing)}.",
                                  "Write each one's [steps.exercise_v2] (checked against its python_v2 code).")


# -- reset ----------------------------------------------------------------------------------------------
@app.command()
def reset(
    username: UsernameOpt = None,
    course_dir: CourseDirOpt = Path("."),
    step: Annotated[Optional[str], typer.Option("--step", help="Run this step again next time (lesson/step or its id).")] = None,
    lesson: Annotated[Optional[str], typer.Option("--lesson", help="Run every step of this lesson again.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Forget all of this learner's progress.")] = False,
    yes: YesOpt = False,
) -> None:
    """Forget finished steps so they run again (asks first; --yes answers it)."""
    from tutor.progress import Progress
    from tutor.prompts import Quit, make_prompter

    console = ui.make_console()
    with handled(console):
        if sum(bool(x) for x in (step, lesson, all_)) != 1:
            raise UsageError("Say what to reset: exactly one of --step ID, --lesson ID or --all.",
                             "For example: tutor reset --step day1-data/prepare")
        cdir = CourseDir(course_dir)
        name = _resolve_username(username, cdir, None)
        course = _load_course()
        if step:
            keys = [course.find_step(step).key]
            what = f"step {keys[0]}"
        elif lesson:
            keys = [s.key for s in course.lesson(lesson).steps]
            what = f"the {len(keys)} steps of lesson {lesson}"
        else:
            keys = None
            what = "all progress"
        path = cdir.progress_file(name)
        with Progress.open(path, name, create=False) as progress:
            if keys is None:
                keys = list(progress.steps)
            prompter = make_prompter(console, assume_yes=yes, plain=False)
            try:
                sure = yes or prompter.confirm(f"Forget {what} for {name}? (Files and workspace resources stay.)", False)
            except Quit:
                sure = False
            if not sure:
                console.print("Nothing was reset.")
                raise typer.Exit(1)
            removed = progress.reset(keys)
        console.print(f"Reset {len(removed)} step(s) for {name}. `tutor start` runs them again.", highlight=False)


# -- data ----------------------------------------------------------------------------------------------
@app.command("data")
def data_command(
    data: Annotated[Optional[Path], typer.Option("--data", help="Check this local copy instead.", dir_okay=False)] = None,
) -> None:
    """Find the course dataset (download it into the cache if needed) and print its path."""
    from rich.progress import Progress as Bar

    from tutor import dataset

    console = _err_console()
    with handled(console):
        with Bar(console=console, transient=True) as bar:
            task = bar.add_task("Downloading the course dataset", total=dataset.SIZE)
            found = dataset.locate(data, on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"The course dataset ({found.source}, sha256 verified):", highlight=False)
    print(found.path)


# -- predict and cleanup -------------------------------------------------------------------------
def _open_learner_workspace(username: str | None, course_dir: Path) -> tuple[Any, str]:
    name, cdir, doc = learner_document(username, course_dir)
    return _learner_workspace(name, cdir, doc), name


def _learner_workspace(name: str, cdir: CourseDir, doc: dict[str, Any]) -> Any:
    from tutor.steps.base import Settings
    from tutor.workspace import open_workspace

    recorded = _workspace_of(doc)
    # predict and cleanup only list, call and delete services and compute: on a Python without
    # azureml-core, the azure-ai-ml backend does that.
    return open_workspace(Settings(username=name, course_dir=cdir, workspace=recorded or "local"), v2_fallback=True)


def _redeploy_hint(service: str, username: str, course_dir: Path) -> str:
    """How to deploy ``service`` again: reset the lesson step that creates it, then start."""
    from tutor.names import creating_step

    learner = f"--username {username} --course-dir {course_dir}"
    step = creating_step(_load_course(), username, service, ["service"])
    if step is None:
        return f"Deploy it again (Model.deploy with overwrite=True), then call it again."
    return f"Redeploy it: tutor reset --step {step.key} {learner}, then tutor start {learner}."


@app.command()
def predict(
    service: Annotated[Optional[str], typer.Option("--service", "-s", help="The service to call (default: the learner's newest Healthy one).")] = None,
    username: UsernameOpt = None,
    course_dir: CourseDirOpt = Path("."),
    data: Annotated[Optional[str], typer.Option("--data", help='Make one call with this JSON ({"data": [...]}) and print the answer as JSON.')] = None,
    scoring_uri: Annotated[Optional[str], typer.Option("--scoring-uri", help="Call any scoring URI (an Azure service too) instead of a workspace service.")] = None,
    key: Annotated[Optional[str], typer.Option("--key", envvar="TUTOR_SERVICE_KEY", help="The key for --scoring-uri (or TUTOR_SERVICE_KEY).")] = None,
    plain: PlainOpt = False,
) -> None:
    """Call a deployed scoring service: a prompt to try trips, or one call with --data."""
    from tutor import predict as repl

    console = ui.make_console(plain=plain)
    err = _err_console(plain)
    with handled(err):
        if scoring_uri:
            target = repl.ReplTarget(scoring_uri=scoring_uri, key=key, swagger=None, name=scoring_uri)
        else:
            ws, name = _open_learner_workspace(username, course_dir)
            services = ws.list_services()
            if service is None:
                healthy = [s for s in services if s.state == "Healthy"]
                if not healthy:
                    known = ", ".join(f"{s.name} ({s.state})" for s in services) or "none"
                    raise UsageError(f"{name} has no Healthy service to call (services: {known}).",
                                     "Deploy one with `tutor start` (the deployment steps), or pass --service NAME.")
                service = healthy[-1].name
            record = ws.get_service(service)
            if record.state != "Healthy":
                reason = record.properties.get("reason", "")
                raise UsageError(f"The service {service} is {record.state}" + (f": {reason}" if reason else "."),
                                 _redeploy_hint(service, name, course_dir))
            keys = ws.service_keys(service) if record.properties.get("auth_enabled", True) else None
            target = repl.ReplTarget(scoring_uri=record.scoring_uri, key=keys[0] if keys else None, swagger=None,
                                     keys=keys, name=service)
        if data is not None:
            try:
                outcome = repl.predict_once(target.scoring_uri, target.key, data)
            except ValueError as exc:
                raise UsageError(f"--data is not valid JSON ({exc}).",
                                 'Pass a JSON document like \'{"data": [{"tripDistance": 4.2, ...}]}\'.') from None
            print(json.dumps(outcome, indent=2))
            raise typer.Exit(0 if outcome.get("ok") else 1)
        from tutor.serving.client import fetch_swagger

        target.swagger = fetch_swagger(target.scoring_uri)
        if ui.stdin_is_terminal() and not plain:
            prompter: Any = repl.QuestionaryPrompter()
        else:
            prompter = repl.StreamPrompter(sys.stdin, console)
        repl.PredictionRepl(target, console, prompter).run()


@app.command("python", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def python_command(
    script: Annotated[Optional[str], typer.Argument(help="A Python script to run (else: a Python prompt). Everything after it goes to the script.", show_default=False)] = None,
    args: Annotated[Optional[list[str]], typer.Argument(help="The script's own arguments.", show_default=False)] = None,
    command: Annotated[Optional[str], typer.Option("--command", "-c", help="Run this Python code instead of a script.")] = None,
    username: UsernameOpt = None,
    workspace: Annotated[Optional[str], typer.Option("--workspace", "-w", help="'local' for the embedded workspace, or the path of an Azure ML config.json (default: the learner's).")] = None,
    course_dir: CourseDirOpt = Path("."),
) -> None:
    """Run Python with the azureml SDK and `ws` ready (and `ml_client`, SDK v2): a script, a command (-c), or a prompt.

    On the embedded workspace the course's part of the azureml SDK (v1) and of azure-ai-ml (v2) is active, so the lessons' code runs as it is shown on either track; with an Azure config.json the real packages are used. The code runs in the course folder, as the lessons' relative paths expect.
    """  # noqa: E501 - one line: the help screen wraps it
    import os

    err = _err_console()
    with handled(err):
        target, kind = _python_workspace(username, workspace, course_dir)
        cdir = CourseDir(course_dir)
        launch = [sys.executable, "-m", "tutor.sdk.launch", f"--{kind}", str(target)]
        if command is not None:
            launch += ["-c", command]
        if script is not None:
            path = Path(script).expanduser()
            if command is None:
                if not path.is_file():
                    raise UsageError(f"There is no script {script}.", "Check the path, or run `tutor python` alone for a prompt.")
                launch.append(str(path.resolve()))
            else:
                launch.append(script)
        launch += list(args or [])
        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [package_parent, env.get("PYTHONPATH", "")] if p)
        sys.stdout.flush()
        sys.stderr.flush()
        os.chdir(cdir.root)
        if os.name == "posix":
            os.execve(sys.executable, launch, env)
        import subprocess  # pragma: no cover - platforms without exec

        raise typer.Exit(subprocess.call(launch, env=env))


def _python_workspace(username: str | None, workspace: str | None, course_dir: Path) -> tuple[str, str]:
    """(folder or config path, "embedded" | "azure") of the workspace `tutor python` opens."""
    from tutor.progress import read_document

    cdir = CourseDir(course_dir)
    name = _resolve_username(username, cdir, None)
    if workspace is None:
        try:
            workspace = _workspace_of(read_document(cdir.progress_file(name)))
        except FileNotFoundError:
            workspace = None
        if workspace is None:
            folder = cdir.workspace(f"{name}-ws")
            if not folder.is_dir():
                raise UsageError(f"{name} has no workspace in {cdir.root} yet.",
                                 f"Start the course first (`tutor start --username {name}`), or pass --workspace local "
                                 "to make an empty embedded workspace, or the path of an Azure ML config.json.")
            workspace = "local"
    if workspace == "local":
        from tutor.workspace.local import LocalWorkspace

        folder = cdir.workspace(f"{name}-ws")
        LocalWorkspace(folder, f"{name}-ws")
        return str(folder.resolve()), "embedded"
    config = Path(workspace).expanduser()
    if config.is_dir():
        config = config / "config.json"
    if not config.is_file():
        raise UsageError(f"--workspace {workspace}: there is no such config file.",
                         "Pass 'local' for the embedded workspace, or the path of your workspace's config.json.")
    from tutor.workspace.azure.config import embedded_folder, read_config

    embedded = embedded_folder(read_config(config))
    if embedded is not None:
        return str(embedded.resolve()), "embedded"
    return str(config.resolve()), "azure"


@app.command()
def cleanup(
    username: UsernameOpt = None,
    course_dir: CourseDirOpt = Path("."),
    yes: YesOpt = False,
) -> None:
    """Remove every service and cluster the course created for a learner (asks first; --yes answers)."""
    from tutor.progress import Progress

    console = ui.make_console()
    with handled(console):
        name, cdir, _ = learner_document(username, course_dir)
        # Held to the end, as `start` and `reset` hold it: a tutor working on this learner's
        # steps must not have its services deleted under it.
        with Progress.open(cdir.progress_file(name), name, create=False) as progress:
            _cleanup(console, name, _learner_workspace(name, cdir, progress.doc), yes)


def _cleanup(console: Console, name: str, ws: Any, yes: bool) -> None:
    from tutor.prompts import Quit, make_prompter
    from tutor.steps.deployment import course_resources, remove_resources

    services, clusters = course_resources(ws, name, _load_course())
    if not services and not clusters:
        console.print(f"Nothing to remove: {name} has no services or clusters.")
        return
    table = Table(title=f"What the course created for {name}", box=ui.boxes(console), title_justify="left")
    for col in ("kind", "name", "state"):
        table.add_column(col)
    for s in services:
        table.add_row("service", s.name, s.state)
    for c in clusters:
        table.add_row("cluster", c.name, str(c.provisioning_state))
    console.print(table)
    prompter = make_prompter(console, assume_yes=yes, plain=False)
    try:
        sure = yes or prompter.confirm("Delete all of these?", False)
    except Quit:
        sure = False
    if not sure:
        console.print("Nothing was removed.")
        raise typer.Exit(1)
    removed, problems = remove_resources(ws, services, clusters)
    console.print(f"Removed {len(removed)}: {', '.join(removed) or 'nothing'}.", highlight=False)
    for problem in problems:
        ui.error_panel(console, problem, "Wait for running work to finish, then run `tutor cleanup` again.")
    if problems:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
