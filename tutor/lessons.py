"""The course as data: loading and validating ``lessons/*.toml``.

Each file is one lesson (a coherent part of a course day) holding ordered steps. The
loader checks everything it can before a class starts: required fields, duplicate ids,
unknown actions and parameters, template variables, question answers, ``done_when``
expressions. A problem is reported as a :class:`~tutor.errors.LessonError` naming the
file, the step and the reason. The format is documented in ``lessons/README.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.errors import LessonError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from tutor.exercises.spec import Exercise

# Variables a lesson may use in its parameters, code and explanations.
TEMPLATE_VARIABLES = frozenset({"username", "workspace", "course_dir"})

QUESTION_KINDS = ("select", "text", "number")
# When a question is asked: "after" the step's action (the answer is on the screen), or "before"
# it, as a prediction checked against the action's evidence once it has run.
QUESTION_WHEN = ("after", "before")

_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_COMMA_RE = re.compile(r"^(?P<sign>[+-]?)(?P<whole>\d*),(?P<frac>\d+)$")


def parse_number(text: str) -> float:
    """A learner's typed number: "3.5", " 3.5 ", "-2", "1e3", or "3,5" with a decimal comma.

    Raises ValueError with a message for the learner. A comma followed by exactly three digits
    ("1,234") is refused as ambiguous, since it may be a thousands separator, unless the whole
    part is zero ("0,125" can only be a decimal).
    """
    raw = str(text).strip()
    if not raw:
        raise ValueError("Type a number (Enter alone does not count).")
    if _NUMBER_RE.match(raw):
        return float(raw)
    comma = _COMMA_RE.match(raw)
    if comma:
        sign, whole, frac = comma.group("sign"), comma.group("whole"), comma.group("frac")
        if len(frac) == 3 and whole.lstrip("0"):
            raise ValueError(f"'{raw}' is ambiguous: the comma may separate thousands ({sign}{whole}{frac}) or "
                             f"decimals ({sign}{whole}.{frac}). Type {sign}{whole}{frac} or {sign}{whole}.{frac}.")
        return float(f"{sign}{whole or '0'}.{frac}")
    if "," in raw and any(ch.isdigit() for ch in raw):
        raise ValueError(f"'{raw}' is not a number I can read: type it without thousands separators, "
                         "with at most one decimal point or comma, like 1234.5.")
    raise ValueError(f"'{raw}' is not a number: type digits, like 3.5.")

# done_when: "<evidence key> <op> <literal>" or "<evidence key> exists"
# A key is a dotted path; a segment with spaces or symbols is written in backquotes:
# runs.pipeline.`Test accuracy`
_SEGMENT = r"(?:`[^`]+`|[A-Za-z_][\w\-^]*)"
_CHECK_RE = re.compile(
    rf"^\s*(?P<key>{_SEGMENT}(?:\.{_SEGMENT})*)\s*"
    r"(?:(?P<op>==|!=|>=|<=|>|<|~=)\s*(?P<value>.+?)|\s+(?P<exists>exists))\s*$"
)

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Check:
    """One ``done_when`` condition on a step's evidence."""

    key: str
    op: str  # "==", "!=", ">=", "<=", ">", "<", "~=" (within 1e-9), "exists"
    value: Any = None
    source: str = ""

    def holds(self, evidence: dict[str, Any]) -> bool:
        found, actual = lookup(evidence, self.key)
        if self.op == "exists":
            return found and actual is not None
        if not found:
            return False
        try:
            if self.op == "==":
                return _eq(actual, self.value)
            if self.op == "!=":
                return not _eq(actual, self.value)
            if self.op == "~=":  # equal within 1e-9: reference figures computed on another machine
                return abs(float(actual) - float(self.value)) <= 1e-9
            if self.op == ">=":
                return actual >= self.value
            if self.op == "<=":
                return actual <= self.value
            if self.op == ">":
                return actual > self.value
            if self.op == "<":
                return actual < self.value
        except TypeError:
            return False
        return False


def _eq(actual: Any, expected: Any) -> bool:
    if isinstance(actual, float) or isinstance(expected, float):
        try:
            return abs(float(actual) - float(expected)) <= 1e-9 * max(1.0, abs(float(expected)))
        except (TypeError, ValueError):
            return False
    return actual == expected


def split_key(dotted: str) -> list[str]:
    """``a.`b c`.d`` -> ["a", "b c", "d"]."""
    return [part.strip("`") for part in re.findall(r"`[^`]+`|[^.]+", dotted)]


def lookup(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    """``lookup({"a": {"b": 1}}, "a.b") == (True, 1)``."""
    current: Any = data
    for part in split_key(dotted):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return False, None
    return True, current


@dataclass(frozen=True)
class Question:
    kind: str
    prompt: str
    choices: tuple[str, ...] = ()
    # Exactly one of answer / answer_from is set.
    answer: Any = None
    answer_from: str | None = None  # an evidence key
    tolerance: float = 0.0  # for number questions
    hints: tuple[str, ...] = ()
    explanation: str = ""  # shown after a right answer
    when: str = "after"  # "before": a prediction, asked before the action and checked after it

    @property
    def is_prediction(self) -> bool:
        return self.when == "before"

    def answer_problem(self, given: str) -> str | None:
        """Why a typed answer cannot be taken (it is then asked again, not counted), or None."""
        if self.kind == "number":
            try:
                parse_number(given)
            except ValueError as problem:
                return str(problem)
        elif not str(given).strip():
            return "Type an answer (Enter alone does not count)."
        return None

    def expected(self, evidence: dict[str, Any]) -> Any:
        if self.answer_from is None:
            return self.answer
        found, value = lookup(evidence, self.answer_from)
        return value if found else None

    def is_right(self, given: str, evidence: dict[str, Any]) -> bool:
        expected = self.expected(evidence)
        if expected is None:
            return False
        if self.kind == "number":
            try:
                return abs(parse_number(given) - float(expected)) <= self.tolerance + 1e-9 * max(1.0, abs(float(expected)))
            except (TypeError, ValueError):
                return False
        return str(given).strip().casefold() == str(expected).strip().casefold()


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    explanation: str
    action: str
    lesson_id: str
    params: dict[str, Any] = field(default_factory=dict)
    code: dict[str, str] = field(default_factory=dict)  # language -> code
    hints: tuple[str, ...] = ()
    question: Question | None = None
    done_when: tuple[Check, ...] = ()
    # Course-day reference, e.g. "Day 1, step 7", shown in the header.
    ref: str = ""
    # The learner writes the step's code (see tutor.exercises).
    exercise: Exercise | None = None
    # What differs in SDK v2 (azure-ai-ml), shown with the step's ``python_v2`` code.
    v2_note: str = ""
    # The same exercise in SDK v2: its reference solution is ``code.python_v2``.
    exercise_v2: Exercise | None = None

    @property
    def key(self) -> str:
        """The course-wide id: ``<lesson>/<step>``."""
        return f"{self.lesson_id}/{self.id}"

    def exercise_for(self, sdk: str) -> Exercise | None:
        """The exercise the ``sdk`` track asks for: v2's own, or the one exercise of a step whose
        code reads the same in both SDKs (no ``python_v2`` form); None when there is none."""
        if sdk == "v2" and "python_v2" in self.code:
            return self.exercise_v2
        return self.exercise


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    day: int
    order: int
    summary: str
    steps: tuple[Step, ...]
    path: Path
    # The estimate: reading and typing time plus the steps' run time on this kind of machine.
    minutes: float = 0.0
    original: str = ""  # where the lesson is in the original course
    concepts: tuple[str, ...] = ()  # one line each, for the recap
    recap: tuple[RecapItem, ...] = ()  # figures from the evidence, for the recap
    charts: tuple[Chart, ...] = ()  # for the day's summary


@dataclass(frozen=True)
class Course:
    lessons: tuple[Lesson, ...]

    @property
    def steps(self) -> list[Step]:
        return [step for lesson in self.lessons for step in lesson.steps]

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        known = ", ".join(lesson.id for lesson in self.lessons)
        raise LessonError(f"There is no lesson '{lesson_id}'.", f"Known lessons: {known}. `tutor lessons` lists them.")

    def find_step(self, ref: str) -> Step:
        """A step by ``lesson/step`` or by its bare id when that is unique."""
        matches = [s for s in self.steps if s.key == ref or s.id == ref]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise LessonError(f"There is no step '{ref}'.", "`tutor lessons` lists every step as lesson/step.")
        keys = ", ".join(s.key for s in matches)
        raise LessonError(f"'{ref}' names several steps: {keys}.", "Name it as lesson/step.")


def _fail(path: Path, where: str | None, reason: str) -> LessonError:
    place = f"{path}" + (f", step '{where}'" if where else "")
    return LessonError(
        f"The lesson file {place} cannot be used: {reason}",
        "Fix the file (the format is described in lessons/README.md) and run `tutor lessons check`.",
    )


# {name} is a template variable; {{name}} stands for a literal {name}; any other brace is
# left alone, so R and Python code (blocks, dicts) need no escaping.
_TEMPLATE_RE = re.compile(r"\{\{([A-Za-z_]\w*)\}\}|\{([A-Za-z_]\w*)\}")


def _template_fields(text: str) -> set[str]:
    return {m.group(2) for m in _TEMPLATE_RE.finditer(text) if m.group(2)}


def _check_templates(value: Any, path: Path, where: str | None, what: str) -> None:
    if isinstance(value, str):
        unknown = sorted(n for n in _template_fields(value) if n not in TEMPLATE_VARIABLES)
        if unknown:
            allowed = ", ".join("{" + v + "}" for v in sorted(TEMPLATE_VARIABLES))
            raise _fail(path, where, f"{what} uses the unknown template variable {{{unknown[0]}}} "
                                     f"(allowed: {allowed}; write {{{{{unknown[0]}}}}} for a literal).")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_templates(v, path, where, f"{what}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_templates(v, path, where, f"{what}[{i}]")


def render(value: Any, variables: dict[str, str]) -> Any:
    """Fill ``{username}`` and friends into strings, recursively."""
    if isinstance(value, str):
        def fill(match: re.Match[str]) -> str:
            if match.group(1):
                return "{" + match.group(1) + "}"
            return str(variables.get(match.group(2), match.group(0)))

        return _TEMPLATE_RE.sub(fill, value)
    if isinstance(value, dict):
        return {k: render(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, variables) for v in value]
    return value


def _literal(text: str) -> Any:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _str_list(raw: Any, path: Path, where: str | None, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(path, where, f"'{what}' must be a list of strings.")
    return tuple(raw)


def _require_str(table: dict[str, Any], name: str, path: Path, where: str | None) -> str:
    value = table.get(name)
    if value is None:
        raise _fail(path, where, f"the field '{name}' is missing.")
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"the field '{name}' must be a non-empty string.")
    return value


def _parse_question(raw: Any, path: Path, where: str) -> Question:
    if not isinstance(raw, dict):
        raise _fail(path, where, "'question' must be a table.")
    known = {"kind", "prompt", "choices", "answer", "answer_from", "tolerance", "hints", "explanation", "when"}
    extra = sorted(set(raw) - known)
    if extra:
        raise _fail(path, where, f"the question has an unknown field '{extra[0]}' (known: {', '.join(sorted(known))}).")
    kind = raw.get("kind", "select")
    if kind not in QUESTION_KINDS:
        raise _fail(path, where, f"question kind '{kind}' is not one of {', '.join(QUESTION_KINDS)}.")
    prompt = _require_str(raw, "prompt", path, where)
    choices = _str_list(raw.get("choices"), path, where, "question.choices")
    has_answer = "answer" in raw
    answer_from = raw.get("answer_from")
    if has_answer == (answer_from is not None):
        raise _fail(path, where, "a question needs exactly one of 'answer' (fixed) or 'answer_from' (an evidence key).")
    if kind == "select" and not choices:
        raise _fail(path, where, "a select question needs 'choices'.")
    answer = raw.get("answer")
    if has_answer and kind == "select" and str(answer) not in choices:
        raise _fail(path, where, f"the answer '{answer}' is not one of the choices.")
    if has_answer and kind == "number" and not isinstance(answer, (int, float)):
        raise _fail(path, where, "a number question's 'answer' must be a number.")
    tolerance = raw.get("tolerance", 0.0)
    if not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise _fail(path, where, "'tolerance' must be a number >= 0.")
    hints = _str_list(raw.get("hints"), path, where, "question.hints")
    when = raw.get("when", "after")
    if when not in QUESTION_WHEN:
        raise _fail(path, where, f"the question's 'when' is {when!r}: it must be \"after\" (the default: asked once "
                                 "the step has run) or \"before\" (a prediction, asked before the step runs and "
                                 "checked against what it finds).")
    if when == "before" and hints:
        raise _fail(path, where, "a question asked before the step (when = \"before\") is a prediction with one "
                                 "try, so it takes no 'hints': remove them, or put what they say in the "
                                 "'explanation' shown with the verdict.")
    return Question(
        kind=kind,
        prompt=prompt,
        choices=choices,
        answer=answer,
        answer_from=answer_from,
        tolerance=float(tolerance),
        hints=hints,
        explanation=str(raw.get("explanation", "")),
        when=when,
    )


def _parse_check(text: Any, path: Path, where: str) -> Check:
    if not isinstance(text, str):
        raise _fail(path, where, "each 'done_when' entry must be a string like \"rows == 23222\".")
    match = _CHECK_RE.match(text)
    if not match:
        raise _fail(
            path,
            where,
            f"'done_when' entry {text!r} is not of the form '<evidence key> <op> <value>' "
            "(op one of == != >= <= > < ~=) or '<evidence key> exists'.",
        )
    if match.group("exists"):
        return Check(key=match.group("key"), op="exists", source=text)
    return Check(key=match.group("key"), op=match.group("op"), value=_literal(match.group("value")), source=text)


STEP_FIELDS = {"id", "title", "explanation", "action", "params", "code", "hints", "question", "done_when", "ref",
               "exercise", "exercise_v2", "v2_note"}
#: The languages of a step's ``code`` table: Python in SDK v1 (azureml-core) and v2 (azure-ai-ml), and R.
CODE_LANGUAGES = ("python", "python_v2", "r")
LESSON_FIELDS = {"id", "title", "day", "order", "summary", "steps", "minutes", "original", "concepts", "recap",
                 "charts"}


@dataclass(frozen=True)
class RecapItem:
    """A figure of the lesson's recap: ``label``, found at ``key`` in the evidence of step ``step``."""

    label: str
    step: str
    key: str


@dataclass(frozen=True)
class ChartBar:
    label: str
    step: str = ""
    key: str = ""
    value: float | None = None  # a fixed figure to compare with (a published result)


@dataclass(frozen=True)
class Chart:
    """A bar chart of the day's summary: the numbers of a table in a step's evidence (``step`` and
    ``key``, with ``field`` picking one number from each row), and/or named ``bars``."""

    title: str
    step: str = ""
    key: str = ""
    field: str = ""
    unit: str = ""
    bars: tuple[ChartBar, ...] = ()


def load_lesson(path: Path, actions: dict[str, Any] | None = None) -> Lesson:
    """Parse and validate one lesson file."""
    if actions is None:
        from tutor.steps import registry

        actions = registry()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, None, f"it is not valid TOML ({exc}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path, None, f"it cannot be read ({exc}).") from None

    extra = sorted(set(raw) - LESSON_FIELDS)
    if extra:
        raise _fail(path, None, f"unknown top-level field '{extra[0]}' (known: {', '.join(sorted(LESSON_FIELDS))}).")
    lesson_id = _require_str(raw, "id", path, None)
    if not _ID_RE.match(lesson_id):
        raise _fail(path, None, f"the lesson id '{lesson_id}' must be lower-case letters, digits and hyphens.")
    title = _require_str(raw, "title", path, None)
    day = raw.get("day", 1)
    order = raw.get("order", 0)
    if not isinstance(day, int) or not isinstance(order, int):
        raise _fail(path, None, "'day' and 'order' must be whole numbers.")
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail(path, None, "it has no steps (write each as a [[steps]] table).")

    steps: list[Step] = []
    seen: set[str] = set()
    for index, raw_step in enumerate(raw_steps, start=1):
        if not isinstance(raw_step, dict):
            raise _fail(path, f"#{index}", "each step must be a [[steps]] table.")
        step_id = raw_step.get("id")
        where = step_id if isinstance(step_id, str) and step_id else f"#{index}"
        step_id = _require_str(raw_step, "id", path, where)
        if not _ID_RE.match(step_id):
            raise _fail(path, where, "a step id must be lower-case letters, digits and hyphens.")
        if step_id in seen:
            raise _fail(path, where, "this step id is used twice in the lesson.")
        seen.add(step_id)
        unknown = sorted(set(raw_step) - STEP_FIELDS)
        if unknown:
            raise _fail(path, where, f"unknown field '{unknown[0]}' (known: {', '.join(sorted(STEP_FIELDS))}).")
        step_title = _require_str(raw_step, "title", path, where)
        explanation = _require_str(raw_step, "explanation", path, where)
        action_name = _require_str(raw_step, "action", path, where)
        if action_name not in actions:
            known = ", ".join(sorted(actions))
            raise _fail(path, where, f"unknown action '{action_name}' (known actions: {known}).")
        spec = actions[action_name]
        params = raw_step.get("params", {})
        if not isinstance(params, dict):
            raise _fail(path, where, "'params' must be a table.")
        unknown_params = sorted(set(params) - spec.params)
        if unknown_params:
            takes = ", ".join(sorted(spec.params)) or "no parameters"
            raise _fail(path, where, f"the action '{action_name}' has no parameter '{unknown_params[0]}' (it takes: {takes}).")
        missing = sorted(spec.required - set(params))
        if missing:
            raise _fail(path, where, f"the action '{action_name}' needs the parameter '{missing[0]}'.")
        _check_templates(params, path, where, "params")
        code = raw_step.get("code", {})
        if not isinstance(code, dict) or not all(isinstance(v, str) for v in code.values()):
            raise _fail(path, where, "'code' must be a table of language = \"\"\"code\"\"\" strings.")
        strange = sorted(set(code) - set(CODE_LANGUAGES))
        if strange:
            raise _fail(path, where, f"the code table has '{strange[0]}' (known: {', '.join(CODE_LANGUAGES)}: "
                                     "python is SDK v1's form, python_v2 azure-ai-ml's).")
        if "python_v2" in code and "python" not in code:
            raise _fail(path, where, "it has python_v2 code but no python (SDK v1) code; write both forms.")
        v2_note = raw_step.get("v2_note", "")
        if not isinstance(v2_note, str):
            raise _fail(path, where, "'v2_note' must be text (what differs in SDK v2).")
        if v2_note and "python_v2" not in code:
            raise _fail(path, where, "it has a v2_note but no python_v2 code to go with it.")
        _check_templates(code, path, where, "code")
        _check_templates(v2_note, path, where, "v2_note")
        _check_templates(explanation, path, where, "explanation")
        hints = _str_list(raw_step.get("hints"), path, where, "hints")
        question = _parse_question(raw_step["question"], path, where) if "question" in raw_step else None
        checks_raw = raw_step.get("done_when", [])
        if not isinstance(checks_raw, list):
            raise _fail(path, where, "'done_when' must be a list of strings.")
        checks = tuple(_parse_check(c, path, where) for c in checks_raw)
        exercise = None
        if "exercise" in raw_step:
            from tutor.exercises.spec import parse_exercise

            exercise = parse_exercise(raw_step["exercise"], lambda reason: _fail(path, where, reason),
                                      bool(str(code.get("python", "")).strip()))
            _check_templates({"task": exercise.task, "scaffold": exercise.scaffold, "hints": list(exercise.hints),
                              "needs": exercise.needs, "checks": [c.params for c in exercise.checks]},
                             path, where, "exercise")
        exercise_v2 = None
        if "exercise_v2" in raw_step:
            from tutor.exercises.spec import parse_exercise

            if "python_v2" not in code:
                raise _fail(path, where, "'exercise_v2' is the SDK v2 form of the exercise: it needs the step's "
                                         "code.python_v2 (its reference solution). A step whose code reads the same "
                                         "in both SDKs has one 'exercise'.")
            exercise_v2 = parse_exercise(raw_step["exercise_v2"], lambda reason: _fail(path, where, reason),
                                         bool(str(code.get("python_v2", "")).strip()))
            _check_templates({"task": exercise_v2.task, "scaffold": exercise_v2.scaffold,
                              "hints": list(exercise_v2.hints), "needs": exercise_v2.needs,
                              "checks": [c.params for c in exercise_v2.checks]}, path, where, "exercise_v2")
        steps.append(
            Step(
                id=step_id,
                title=step_title,
                explanation=explanation,
                action=action_name,
                lesson_id=lesson_id,
                params=params,
                code=dict(code),
                hints=hints,
                question=question,
                done_when=checks,
                ref=str(raw_step.get("ref", "")),
                exercise=exercise,
                v2_note=v2_note,
                exercise_v2=exercise_v2,
            )
        )
    minutes = raw.get("minutes", 0)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes < 0:
        raise _fail(path, None, "'minutes' (the lesson's estimate) must be a number of minutes, like 12.")
    original = raw.get("original", "")
    concepts = raw.get("concepts", [])
    if not isinstance(original, str):
        raise _fail(path, None, "'original' must say in words where the lesson is in the original course.")
    if not isinstance(concepts, list) or not all(isinstance(c, str) and c.strip() for c in concepts):
        raise _fail(path, None, "'concepts' must be a list of one-line strings.")
    ids = {step.id for step in steps}
    recap = tuple(_recap_item(item, path, ids) for item in _tables(raw.get("recap", []), "recap", path))
    charts = tuple(_chart(item, path) for item in _tables(raw.get("charts", []), "charts", path))
    return Lesson(
        id=lesson_id,
        title=title,
        day=day,
        order=order,
        summary=str(raw.get("summary", "")),
        steps=tuple(steps),
        path=path,
        minutes=float(minutes),
        original=original,
        concepts=tuple(concepts),
        recap=recap,
        charts=charts,
    )


def _tables(raw: Any, name: str, path: Path) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise _fail(path, None, f"'{name}' must be a list of tables ([[{name}]]).")
    return raw


def _recap_item(raw: dict[str, Any], path: Path, step_ids: set[str]) -> RecapItem:
    unknown = sorted(set(raw) - {"label", "step", "key"})
    if unknown:
        raise _fail(path, None, f"a [[recap]] entry has an unknown field '{unknown[0]}' (known: key, label, step).")
    if not all(isinstance(raw.get(k), str) and raw.get(k) for k in ("label", "step", "key")):
        raise _fail(path, None, "each [[recap]] entry needs a 'label', the 'step' (its id) and the evidence 'key'.")
    if raw["step"] not in step_ids:
        raise _fail(path, None, f"a [[recap]] entry names the step '{raw['step']}', which this lesson does not have.")
    return RecapItem(raw["label"], raw["step"], raw["key"])


def _chart(raw: dict[str, Any], path: Path) -> Chart:
    """A chart; its steps are course-wide keys (lesson/step): a day's chart may compare lessons."""
    unknown = sorted(set(raw) - {"title", "step", "key", "field", "unit", "bars"})
    if unknown:
        raise _fail(path, None, f"a [[charts]] entry has an unknown field '{unknown[0]}'.")
    if not isinstance(raw.get("title"), str) or not raw["title"]:
        raise _fail(path, None, "each [[charts]] entry needs a 'title'.")
    bars = []
    for bar in raw.get("bars", []):
        if not isinstance(bar, dict) or not isinstance(bar.get("label"), str):
            raise _fail(path, None, f"a bar of the chart '{raw['title']}' needs a 'label'.")
        value = bar.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise _fail(path, None, f"the bar '{bar['label']}' has a 'value' that is not a number.")
        if value is None and not (bar.get("step") and bar.get("key")):
            raise _fail(path, None, f"the bar '{bar['label']}' needs a 'value', or the 'step' and 'key' of its figure.")
        bars.append(ChartBar(bar["label"], str(bar.get("step", "")), str(bar.get("key", "")),
                             float(value) if value is not None else None))
    if not raw.get("key") and not bars:
        raise _fail(path, None, f"the chart '{raw['title']}' needs a table ('step' and 'key') or 'bars'.")
    for step in [raw.get("step", "")] + [b.step for b in bars]:
        if step and "/" not in step:
            raise _fail(path, None, f"the chart '{raw['title']}' names the step '{step}': give it as lesson/step.")
    return Chart(raw["title"], str(raw.get("step", "")), str(raw.get("key", "")), str(raw.get("field", "")),
                 str(raw.get("unit", "")), tuple(bars))


def sdk_code(step: Step, sdk: str) -> dict[str, str]:
    """The step's code as the ``sdk`` track shows it: ``{"python": ..., "r": ...}``, Python in
    azure-ai-ml's form on "v2" (the v1 form where a step has no v2 form yet)."""
    code = {lang: text for lang, text in step.code.items() if lang != "python_v2"}
    if sdk == "v2" and "python_v2" in step.code:
        code["python"] = step.code["python_v2"]
    return code


def v2_gaps(course: Course) -> list[str]:
    """The steps whose SDK v1 code uses the SDK and has no v2 form.

    A block uses the SDK when it imports ``azureml`` or uses a name an SDK-using block bound
    before it (``ws``, ``run``, ``service``...), in course order; the others (pandas, the
    course scripts' files) read the same in both tracks and need no second form.
    """
    from tutor.instructor.export import scan

    variables = {"username": "learner", "workspace": "learner-ws", "course_dir": "."}
    tainted: set[str] = set()
    gaps = []
    for step in course.steps:
        code = render(step.code.get("python", ""), variables)
        if not code.strip():
            continue
        try:
            found = scan(code)
        except SyntaxError:
            gaps.append(step.key)
            continue
        uses_sdk = found.imports_azure or bool(found.free & tainted)
        if uses_sdk:
            tainted |= found.bound
            if not step.code.get("python_v2", "").strip():
                gaps.append(step.key)
        else:
            tainted -= found.bound
    return gaps


def v2_exercise_gaps(course: Course) -> list[str]:
    """The steps with a v1 exercise and v2 code but no v2 exercise (the v2 track would not ask)."""
    return [step.key for step in course.steps
            if step.exercise is not None and "python_v2" in step.code and step.exercise_v2 is None]


def load_course(paths: list[Path] | None = None) -> Course:
    """Every lesson, ordered by (day, order, id). Lesson ids must be unique."""
    if paths is None:
        from tutor.paths import course_resource

        paths = sorted(course_resource("lessons").glob("*.toml"))
    lessons = [load_lesson(p) for p in paths]
    seen: dict[str, Path] = {}
    for lesson in lessons:
        if lesson.id in seen:
            raise _fail(lesson.path, None, f"the lesson id '{lesson.id}' is also used by {seen[lesson.id]}.")
        seen[lesson.id] = lesson.path
    lessons.sort(key=lambda l: (l.day, l.order, l.id))
    return Course(lessons=tuple(lessons))
