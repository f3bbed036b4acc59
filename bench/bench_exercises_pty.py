"""The whole course as a learner meets it, through a real pseudo-terminal, with every exercise answered.

`tutor start` runs at a terminal (exercises on, as they are by default there) on a fresh course
folder. At each step's menu the learner presses Enter (run it); at each exercise's `>>>` prompt
the step's reference solution is typed in, line by line as a learner would type it; the scoring
script's exercise is written in the file itself through $EDITOR; each question asked after its
step gets the right answer (read from the evidence the step just recorded), each prediction the
first choice or 0; the prediction prompt is left with
`quit`. What is measured is the tutor's side: from the first screen to the last, per lesson and
per day. A learner's reading and typing come on top.

    python bench/bench_exercises_pty.py [--automl-minutes M] [--keep DIR]

The AutoML search gets the embedded workspace's usual cap (2 minutes) unless --automl-minutes says
otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tutor.lessons import load_course, render  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r")
STEP = re.compile(r"Step (\d+) of (\d+) · ([\w-]+/[\w-]+)")
RESTORE = """
import sys
from tutor.paths import course_resource
open(sys.argv[1], "w").write((course_resource("score") / "score.py").read_text())
"""


def loose(text: str) -> str:
    """A pattern for ``text`` on a terminal: colour and cursor codes may sit between its words."""
    gap = r"(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*"
    return gap.join(re.escape(word) for word in text.split())


def plain(text: str) -> str:
    return ANSI.sub("", text)


def answer_for(question, evidence: dict) -> str:
    expected = question.expected(evidence)
    return str(expected)


def drive(course: Path, data: Path, username: str, automl_minutes: float | None, log: Path) -> dict:
    lessons = load_course()
    steps = {s.key: s for s in lessons.steps}
    variables = {"username": username}
    editor = course.parent / "restore_score.py"
    editor.write_text(RESTORE, encoding="utf-8")
    # PROMPT_TOOLKIT_NO_CPR: the pseudo-terminal does not answer "where is the cursor?", so the
    # prompts would wait for it, warn and draw themselves twice.
    env = {**os.environ, "TUTOR_DATA": str(data), "TERM": "xterm", "EDITOR": f"{sys.executable} {editor}",
           "PROMPT_TOOLKIT_NO_CPR": "1",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if automl_minutes is not None:
        env["TUTOR_AUTOML_MINUTES"] = str(automl_minutes)
    child = pexpect.spawn(sys.executable, ["-m", "tutor", "start", "-u", username, "-w", "local", "-C", str(course)],
                          env=env, encoding="utf-8", timeout=900, dimensions=(50, 120), cwd=str(course.parent))
    child.logfile_read = log.open("w", encoding="utf-8")
    questions = {k: s.question for k, s in steps.items() if s.question is not None}
    patterns = [loose("What next? (Use"), ">>>", "predict>", "every step here is finished", r": not done", pexpect.EOF,
                r"\((?:y/N|Y/n)\)"]
    prompts = {loose(" ".join(q.prompt.split()[:8])): k for k, q in questions.items()}
    patterns += list(prompts)
    seen = ""
    current = ""
    lesson_starts: list[tuple[str, float]] = []
    started = time.monotonic()
    typed = 0
    predictions = 0
    while True:
        index = child.expect(patterns)
        seen += plain(child.before or "") + plain(child.after if isinstance(child.after, str) else "")
        for match in STEP.finditer(seen):
            current = match.group(3)
        # A lesson begins at its first step's menu.
        if current and current in steps and (not lesson_starts or
                                             lesson_starts[-1][0] != steps[current].lesson_id):
            lesson_starts.append((steps[current].lesson_id, time.monotonic() - started))
        seen = seen[-4000:]
        if index == 0:
            time.sleep(0.3)  # the prompt settles (it asks the terminal where the cursor is)
            child.send("\r")
            child.expect(loose("What next? Run this step"))  # the answered menu
        elif index == 1:
            time.sleep(0.3)
            step = steps[current]
            if step.exercise is not None and step.exercise.file:
                child.send("e\r")
                child.send("\r")
            else:
                code = render(step.code["python"], variables).strip("\n")
                for line in code.splitlines():
                    if line.strip():
                        child.send(line + "\r")
                        time.sleep(0.02)
                child.send("\r")
            typed += 1
            if child.expect(["That works", "Not yet"]) == 1:
                child.expect(">>>")
                raise SystemExit(f"the reference answer of {current} was not accepted:\n"
                                 f"{plain(child.before or '')[-2000:]}")
        elif index == 2:
            time.sleep(0.3)
            child.send("quit\r")
            child.expect(loose("predict> quit"))
        elif index == 3:
            child.expect(pexpect.EOF)
            break
        elif index == 4:
            tail = seen[-3000:]
            child.close(force=True)
            raise SystemExit(f"a step failed at {current}:\n{tail}")
        elif index == 5:
            raise SystemExit(f"the tutor ended early at {current}:\n{seen[-3000:]}")
        elif index == 6:  # a yes/no question of a step: its default, as --yes answers it
            time.sleep(0.3)
            child.send("\r")
        else:
            key = prompts[patterns[index]]
            doc = json.loads((course / "progress" / f"{username}.json").read_text())
            evidence = doc["steps"].get(key, {}).get("evidence", {})
            question = questions[key]
            time.sleep(0.3)
            if question.when == "before":  # a prediction, before the step runs: the first choice, or 0
                child.send(("" if question.kind == "select" else "0") + "\r")
                child.expect("We'll see")  # the verdict comes after the step has run
                predictions += 1
                continue
            if question.kind == "select":
                wanted = str(question.expected(evidence))
                position = [str(c) for c in question.choices].index(wanted)
                child.send("\x1b[B" * position)
                time.sleep(0.2)
                child.send("\r")
            else:
                child.send(answer_for(question, evidence) + "\r")
            if child.expect(["Right!", "Not quite"]) == 1:
                raise SystemExit(f"the answer to {key}'s question was not right: {plain(child.before or '')[-1500:]}")
    total = time.monotonic() - started
    child.close()
    doc = json.loads((course / "progress" / f"{username}.json").read_text())
    return {"total_s": total, "lesson_starts": lesson_starts, "exercises_typed": typed, "predictions": predictions,
            "doc": doc}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--automl-minutes", type=float, default=None)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    data = Path(os.environ.get("TUTOR_DATA", ROOT.parent / "shared" / "data" / "green_taxi_data.parquet"))
    if not data.is_file():
        print(f"No dataset at {data}: set TUTOR_DATA.", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="tutor-pty-bench-"))
    course = work / "course"
    course.mkdir(parents=True, exist_ok=True)
    log = work / "screen.log"
    try:
        result = drive(course, data, "lea", args.automl_minutes, log)
    finally:
        from tutor.serving import stop_all

        stop_all(course)
    lessons = load_course().lessons
    by_id = {lesson.id: lesson for lesson in lessons}
    starts = result["lesson_starts"] + [("end", result["total_s"])]
    per_lesson = [(lid, end - start) for (lid, start), (_, end) in zip(starts, starts[1:])]
    per_day: dict[int, float] = {}
    for lid, seconds in per_lesson:
        per_day[by_id[lid].day] = per_day.get(by_id[lid].day, 0.0) + seconds
    steps = result["doc"]["steps"]
    statuses = [e.get("exercise", {}).get("status") for e in steps.values() if "exercise" in e]
    attempts = sum(int(e.get("exercise", {}).get("attempts", 0)) for e in steps.values())
    print(f"whole course: {result['total_s']:.0f} s; exercises typed: {result['exercises_typed']} "
          f"({statuses.count('solved')} solved, {attempts} attempts)")
    for lid, seconds in per_lesson:
        print(f"  day {by_id[lid].day}  {lid:<16} {seconds:6.1f} s")
    # What the learner adds: reading every explanation and task, typing every answer. The rates
    # are assumptions, not measurements: 200 words a minute to read, 150 characters a minute to
    # type code (with its thinking).
    reading = {day: 0 for day in per_day}
    typing = {day: 0 for day in per_day}
    for step in load_course().steps:
        day = by_id[step.lesson_id].day
        reading[day] += len(step.explanation.split()) + (len(step.exercise.task.split()) if step.exercise else 0)
        if step.exercise is not None and not step.exercise.file:
            typing[day] += len(render(step.code.get("python", ""), {"username": "lea"}).strip())
    for day, seconds in sorted(per_day.items()):
        learner = reading[day] / 200 + typing[day] / 150
        print(f"day {day}: {seconds:.0f} s ({seconds / 60:.1f} min) of the tutor's time; {reading[day]} words "
              f"to read and {typing[day]} characters of answers to type: about {learner:.0f} min more for a "
              f"learner, {seconds / 60 + learner:.0f} min in all")
    print(f"screen transcript: {log}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
