"""Day 1's R panels, read in course order as one R session, hang together.

The lessons show an R panel (``[steps.code] r``) beside the Python code of day 1: the original
course teaches day 1 with the R SDK (azuremlsdk). The tutor never runs those panels, so nothing
else notices when one uses a variable no earlier panel defined, or names a script the course
folder does not have. This file checks, for the shipped lessons in course order:

(a) every file an R panel names exists in the learner's course folder at that point, or an
    earlier step or panel produced it (the "produced by" rules are listed in ``check_files``);
(b) every variable an R panel uses was assigned in the same or an earlier panel.

The R is read by a small tokenizer (strings, comments, names, operators), not by R itself, so
these checks run everywhere. When ``Rscript`` is installed, further tests parse every R file and
panel with R, run the five training scripts on the course data, and push the sample trip
through the scoring script the way the panels do; without R they are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from tutor.lessons import Course, load_course, render
from tutor.paths import course_resource
from tutor.steps.scripts import FOLDERS, _shipped_files

# What {username} and friends become when a panel is read (lessons are templated).
VARIABLES = {"username": "alice", "workspace": "local", "course_dir": "/home/alice/course"}

# --------------------------------------------------------------------------------------------
# A small R tokenizer
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
      (?P<comment>\#[^\n]*)
    | (?P<newline>\n)
    | (?P<space>[ \t\r]+)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<backtick>`[^`]*`)
    | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[Li]?)
    | (?P<name>[A-Za-z.][A-Za-z0-9._]*)
    | (?P<op>%[^%\n]*%|<<-|->>|<-|->|:::|::|==|!=|<=|>=|&&|\|\||\|>|[-+*/^~!&|<>=$@?(){}\[\],;:\\])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # name, string, number, op, newline (comments and spaces are dropped)
    text: str

    @property
    def value(self) -> str:
        """A string literal's content (R escapes are not needed for file names)."""
        return self.text[1:-1]


def tokenize(code: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(code):
        match = _TOKEN_RE.match(code, pos)
        if match is None:
            raise ValueError(f"cannot read the R code at {code[pos:pos + 30]!r}")
        kind = match.lastgroup or "op"
        if kind == "backtick":  # `odd name` is a name
            tokens.append(Token("name", match.group()[1:-1]))
        elif kind not in ("comment", "space"):
            tokens.append(Token(kind, match.group()))
        pos = match.end()
    return tokens


KEYWORDS = {
    "if", "else", "for", "while", "repeat", "function", "in", "next", "break",
    "TRUE", "FALSE", "NULL", "NA", "NA_integer_", "NA_real_", "NA_character_", "Inf", "NaN", "T", "F",
}
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")", "]", "}"}

# Package functions a panel passes as values (not called), e.g. lapply(runs, get_run_metrics).
# A new one has to be added here on purpose: any other bare name must be a variable.
FUNCTIONS_AS_VALUES = {"get_run_metrics", "factor", "as.character", "as.numeric"}

# Calls whose arguments are not variables: package names (library) and data-frame columns
# (dplyr's verbs evaluate column names inside the frame).
NON_STANDARD_CALLS = {"library", "require", "requireNamespace", "mutate", "filter", "select",
                      "transmute", "arrange", "summarise", "summarize", "group_by"}


@dataclass
class _Frame:
    """An open bracket."""

    char: str
    call: str | None = None  # the function called, for "(" right after a name
    arg: str | None = None  # the named argument being read (name = ...)
    ends_scope: bool = False  # the "{" of a function body
    call_id: int = -1


@dataclass
class _Scope:
    names: set[str]
    # An unbraced body (function(m) m[["R^2"]]) ends at a comma or closing bracket at this
    # bracket depth, or at the end of the line when that depth is a statement; None = braced.
    depth: int | None = None


def undefined_names(code: str, defined: set[str]) -> list[str]:
    """The variables ``code`` uses that are not defined, in order of first use.

    ``defined`` holds what earlier panels defined and receives this panel's top-level
    definitions. Definitions: ``name <- ...``, ``name = ...`` as a statement (inside a call
    ``name = ...`` is an argument), ``... -> name``, ``for (name in ...)``, and a function's
    parameters inside its body. A name assigned inside a function body is local to it. Not
    uses: a name right after ``$``, ``@`` or ``::``, a package before ``::``, a called
    function ``name(...)``, the arguments of library() and of dplyr's verbs (columns), keywords.
    An assignment takes effect at the end of its statement, so ``x <- x + 1`` needs an earlier x.
    """
    tokens = tokenize(code)
    stack: list[_Frame] = []
    scopes: list[_Scope] = [_Scope(defined)]
    pending: list[tuple[str, _Scope, int]] = []  # (name, scope, depth) defined at statement end
    missing: list[str] = []

    def known(name: str) -> bool:
        return any(name in s.names for s in scopes) or name in FUNCTIONS_AS_VALUES

    def settle(depth: int) -> None:
        """Apply the assignments whose statement ended at ``depth``."""
        for item in [p for p in pending if p[2] >= depth]:
            item[1].names.add(item[0])
            pending.remove(item)

    def at_statement_level() -> bool:
        return not stack or stack[-1].char == "{"

    def close_unbraced_scopes(token: Token) -> None:
        while len(scopes) > 1 and scopes[-1].depth is not None:
            depth = scopes[-1].depth
            ends = (
                (token.text in (",", ";") or token.text in CLOSERS) and len(stack) == depth
            ) or (token.kind == "newline" and len(stack) == depth and at_statement_level())
            if not ends:
                return
            settle(depth)
            scopes.pop()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        close_unbraced_scopes(token)

        if token.kind == "newline" or token.text == ";":
            if at_statement_level():
                settle(len(stack))
        elif token.text in OPENERS:
            call = prev.text if token.text == "(" and prev is not None and prev.kind == "name" else None
            stack.append(_Frame(token.text, call=None if call in KEYWORDS else call))
        elif token.text in CLOSERS:
            if stack:
                frame = stack.pop()
                if frame.ends_scope:
                    settle(len(stack) + 1)
                    scopes.pop()
        elif token.text == ",":
            if stack:
                stack[-1].arg = None
        elif token.kind == "name" and token.text == "function" or token.text == "\\":
            # function(a, b = 1) body: the parameters are defined inside the body. Default
            # values are skipped, not checked.
            params: set[str] = set()
            j = i + 2  # past "function" "("
            depth = 1
            while j < len(tokens) and depth:
                t = tokens[j]
                if t.text in OPENERS:
                    depth += 1
                elif t.text in CLOSERS:
                    depth -= 1
                elif depth == 1 and t.kind == "name" and tokens[j - 1].text in ("(", ","):
                    params.add(t.text)
                j += 1
            while j < len(tokens) and tokens[j].kind == "newline":
                j += 1
            if j < len(tokens) and tokens[j].text == "{":
                stack.append(_Frame("{", ends_scope=True))
                scopes.append(_Scope(params))
                i = j + 1
            else:
                scopes.append(_Scope(params, depth=len(stack)))
                i = j
            continue
        elif token.kind == "name" and token.text not in KEYWORDS:
            name = token.text
            member = prev is not None and prev.text in ("$", "@", "::", ":::")
            package = nxt is not None and nxt.text in ("::", ":::")
            called = nxt is not None and nxt.text == "("
            loop_var = i >= 2 and tokens[i - 2].text == "for" and prev is not None and prev.text == "("
            assigned = nxt is not None and (nxt.text in ("<-", "<<-") or (nxt.text == "=" and at_statement_level()))
            argument = nxt is not None and nxt.text == "=" and not at_statement_level()
            right_assigned = prev is not None and prev.text in ("->", "->>")
            in_nse = any(f.call in NON_STANDARD_CALLS for f in stack)
            if member or package or called:
                pass
            elif loop_var:
                scopes[-1].names.add(name)
            elif assigned or right_assigned:
                glob = (nxt is not None and nxt.text == "<<-") or (prev is not None and prev.text == "->>")
                target = scopes[0] if glob else scopes[-1]
                if right_assigned:
                    target.names.add(name)
                else:
                    pending.append((name, target, len(stack)))
            elif argument:
                stack[-1].arg = name
            elif in_nse:
                pass
            elif not known(name) and name not in missing:
                missing.append(name)
        i += 1
    settle(0)
    return missing


# --------------------------------------------------------------------------------------------
# The string literals of a panel, with the calls they sit in
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: str
    # The enclosing calls, innermost first: (function, argument name or None, call id).
    calls: tuple[tuple[str, str | None, int], ...]

    @property
    def call(self) -> str | None:
        return self.calls[0][0] if self.calls else None

    @property
    def arg(self) -> str | None:
        return self.calls[0][1] if self.calls else None

    def inside(self, function: str) -> tuple[str, str | None, int] | None:
        return next((c for c in self.calls if c[0] == function), None)


@dataclass
class PanelStrings:
    literals: list[Literal] = field(default_factory=list)
    # For every call: its named arguments whose value is a string literal, and every literal in it.
    named: dict[int, dict[str, str]] = field(default_factory=dict)
    nested: dict[int, list[str]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


def string_literals(code: str) -> PanelStrings:
    tokens = tokenize(code)
    out = PanelStrings()
    stack: list[_Frame] = []
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.text in OPENERS:
            call = prev.text if token.text == "(" and prev is not None and prev.kind == "name" else None
            frame = _Frame(token.text, call=None if call in KEYWORDS else call, call_id=i)
            stack.append(frame)
            if frame.call:
                out.named[i], out.nested[i], out.names[i] = {}, [], frame.call
        elif token.text in CLOSERS:
            if stack:
                stack.pop()
        elif token.text == ",":
            if stack:
                stack[-1].arg = None
        elif nxt is not None and nxt.text == "=" and token.kind in ("name", "string") and stack and stack[-1].char != "{":
            stack[-1].arg = token.value if token.kind == "string" else token.text  # "--data_folder" = ...
        elif token.kind == "string":
            calls = tuple((f.call, f.arg, f.call_id) for f in reversed(stack) if f.call)
            out.literals.append(Literal(token.value, calls))
            for f in stack:
                if f.call:
                    out.nested[f.call_id].append(token.value)
            if stack and stack[-1].call and stack[-1].arg and prev is not None and prev.text == "=":
                out.named[stack[-1].call_id][stack[-1].arg] = token.value
    return out


# --------------------------------------------------------------------------------------------
# The course as one R session
# --------------------------------------------------------------------------------------------

FILE_RE = re.compile(r"\.(R|rds|csv|parquet|json)$")
# The raw dataset: the load step (action data.fetch) finds or downloads it for the learner.
RAW_DATASET = "green_taxi_data.parquet"
WRITERS = {"write.csv", "saveRDS", "write_parquet"}
READERS = {"readRDS", "read.csv", "read_parquet"}
# What a training script saves: a literal "outputs/..." in it.
SCRIPT_OUTPUT_RE = re.compile(r"""["'](outputs/[^"']+)["']""")
# What a training script reads from its --data_folder.
SCRIPT_INPUT_RE = re.compile(r"""file\.path\(\s*opt\$data_folder\s*,\s*["']([^"']+)["']\s*\)""")


@dataclass(frozen=True)
class Panel:
    key: str  # lesson/step
    action: str
    code: str | None  # the rendered R panel, or None for a step without one


def course_panels(course: Course) -> list[Panel]:
    """Day 1's steps in course order, each with its rendered R panel (if any)."""
    return [
        Panel(step.key, step.action, render(step.code["r"], VARIABLES) if "r" in step.code else None)
        for lesson in course.lessons if lesson.day == 1
        for step in lesson.steps
    ]


def shipped_course_files() -> set[str]:
    """What the get-scripts step (scripts.copy) puts in the course folder: train/..., score/..."""
    files: set[str] = set()
    for folder in FOLDERS:
        root = course_resource(folder)
        files |= {str(PurePosixPath(folder, *p.relative_to(root).parts)) for p in _shipped_files(folder)}
    return files


def check_files(panels: list[Panel], course_files: set[str], script_root: Path) -> list[str]:
    """Every file an R panel names, checked against where it would come from.

    The course folder starts empty (the R session's working folder, ``setwd`` in get-scripts).
    The produced-by rules, the only ways a file gets there:
    - the get-scripts step (action scripts.copy) copies ``course_files`` (train/, score/);
    - ``write.csv`` / ``saveRDS`` / ``write_parquet`` in a panel writes its file;
    - ``upload_files_to_datastore(ds, list(FILES), target_path = T)`` puts ``T/<basename>`` in
      the datastore (FILES must exist locally); ``data_path(ds, P)`` must name such a path;
    - a run submitted with ``estimator(source_directory = D, entry_script = ...)`` runs the
      scripts ``D/<name>.R`` the panel names; each saves the ``"outputs/..."`` files its text
      names and reads ``file.path(opt$data_folder, F)``, where ``--data_folder`` is
      ``ds$path(T)``: ``T/F`` must be in the datastore;
    - ``download_files_from_run(run, prefix = "outputs/")`` brings the run's outputs here;
    - ``register_model_from_run(..., model_path = P)``: P must be a run output; the model's
      folder (``AZUREML_MODEL_DIR``) then holds its basename, which is all
      ``file.path(Sys.getenv("AZUREML_MODEL_DIR"), F)`` may name;
    - the raw dataset ``green_taxi_data.parquet`` may be read only by the load step (data.fetch),
      which finds or downloads it.
    A ``.R`` name is resolved against the panel's ``source_directory`` (else the course folder).
    A file name used any other way is a problem: no rule says where it comes from.
    """
    local: set[str] = set()
    datastore: set[str] = set()
    run_outputs: set[str] = set()
    model_dir: set[str] = set()
    problems: list[str] = []

    for panel in panels:
        if panel.action == "scripts.copy":
            local |= course_files
        if panel.code is None:
            continue
        found = string_literals(panel.code)
        dirs = {n["source_directory"] for n in found.named.values() if "source_directory" in n}
        if len(dirs) > 1:
            problems.append(f"{panel.key}: several source_directory values {sorted(dirs)}")
        source_dir = next(iter(dirs), "")
        if source_dir and not any(f.startswith(source_dir + "/") for f in local):
            problems.append(f"{panel.key}: source_directory {source_dir!r} is not a folder of the course folder")
        submits = "estimator" in found.names.values()
        data_folder = next((lit.value for lit in found.literals
                            if lit.call == "path" and any(c[1] == "--data_folder" for c in lit.calls)), None)

        for lit in found.literals:
            name = lit.value
            where = f"{panel.key}: {name!r}"
            if lit.inside("download_files_from_run") and lit.arg == "prefix":
                if not run_outputs:
                    problems.append(f"{where}: downloads from a run, but no earlier panel submitted one")
                local |= {f for f in run_outputs if f.startswith(name)}
                continue
            if not FILE_RE.search(name):
                continue
            if name.endswith(".R"):
                path = str(PurePosixPath(source_dir, name)) if source_dir else name
                if path not in local:
                    problems.append(f"{where}: {path} is not in the course folder at this point")
                    continue
                if submits:
                    script = (script_root / path).read_text(encoding="utf-8")
                    run_outputs |= set(SCRIPT_OUTPUT_RE.findall(script))
                    for wanted in SCRIPT_INPUT_RE.findall(script):
                        if data_folder is None:
                            problems.append(f"{where}: the script reads --data_folder, which the panel does not pass")
                        elif f"{data_folder}/{wanted}" not in datastore:
                            problems.append(f"{where}: the run reads {data_folder}/{wanted}, not uploaded by an earlier panel")
            elif lit.call in WRITERS:
                local.add(name)
            elif lit.call == "list" and (upload := lit.inside("upload_files_to_datastore")):
                if name not in local:
                    problems.append(f"{where}: uploads a file that is not in the course folder at this point")
                target = found.named[upload[2]].get("target_path", "")
                datastore.add(str(PurePosixPath(target, PurePosixPath(name).name)))
            elif lit.call == "data_path":
                if name not in datastore:
                    problems.append(f"{where}: not in the datastore (no earlier panel uploaded it)")
            elif lit.call == "register_model_from_run" and lit.arg == "model_path":
                if name not in run_outputs:
                    problems.append(f"{where}: not an output of the runs submitted earlier ({sorted(run_outputs)})")
                model_dir.add(PurePosixPath(name).name)
            elif lit.call == "file.path" and "AZUREML_MODEL_DIR" in found.nested[lit.calls[0][2]]:
                if name not in model_dir:
                    problems.append(f"{where}: not a file of the model registered earlier ({sorted(model_dir)})")
            elif lit.call in READERS:
                if name == RAW_DATASET and panel.action == "data.fetch":
                    continue
                if name not in local:
                    problems.append(f"{where}: read, but not in the course folder at this point")
            else:
                problems.append(f"{where}: a file name used in {lit.call or 'no call'}(); no rule says where it comes from")
    return problems


def check_variables(panels: list[Panel]) -> list[str]:
    defined: set[str] = set()
    problems = []
    for panel in panels:
        if panel.code is None:
            continue
        missing = undefined_names(panel.code, defined)
        if missing:
            problems.append(f"{panel.key}: uses {', '.join(missing)}, which no earlier R panel defines")
    return problems


@pytest.fixture(scope="module")
def panels() -> list[Panel]:
    return course_panels(load_course())


# --------------------------------------------------------------------------------------------
# The shipped lessons
# --------------------------------------------------------------------------------------------


def test_day1_has_r_panels(panels: list[Panel]) -> None:
    keys = [p.key for p in panels if p.code]
    assert len(keys) >= 15
    assert {"day1-training/train-five", "day1-deploy/call"} <= set(keys)


def test_every_file_an_r_panel_names_exists_or_is_produced_first(panels: list[Panel]) -> None:
    problems = check_files(panels, shipped_course_files(), script_root=course_resource("train").parent)
    assert not problems, "\n".join(problems)


def test_every_variable_an_r_panel_uses_is_defined_first(panels: list[Panel]) -> None:
    problems = check_variables(panels)
    assert not problems, "\n".join(problems)


def test_the_five_model_scripts_are_submitted(panels: list[Panel]) -> None:
    (train,) = [p for p in panels if p.action == "training.submit"]
    named = {lit.value for lit in string_literals(train.code or "").literals}
    assert {f"model{n}.R" for n in range(1, 6)} <= named


def test_the_scoring_panel_is_score_r() -> None:
    """The scoring-script panel shows score/score.R's code, line for line (comments aside)."""
    def code_lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]

    (panel,) = [p for p in course_panels(load_course()) if p.code and "init <- function" in p.code]
    assert code_lines(panel.code or "") == code_lines((course_resource("score") / "score.R").read_text())


# --------------------------------------------------------------------------------------------
# The checkers themselves: they catch what they are meant to catch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x <- 1\ny <- x + z", ["z"]),
        ("x <- x + 1", ["x"]),  # the assignment takes effect after its right-hand side
        ("lapply(list(run1, run2), get_run_metrics)", ["run1", "run2"]),
        ("f <- function(a, b = 2) {\n  inner <- a + b\n  inner\n}\ninner", ["inner"]),
        ("sapply(xs, function(m) m[['R^2']])", ["xs"]),
        ("sapply(1:3, function(m) m + 1)\nm", ["m"]),  # a parameter is local to its function
        ("for (run in runs) wait(run)", ["runs"]),
        ("df %>% filter(tripDistance > 0, between(lat, 1, 2)) %>% select(vendorID)", ["df"]),
        ("library(azuremlsdk)\nws <- load_workspace_from_config()\nws$name\njsonlite::toJSON(ws)", []),
        ("predict(model, newdata = data.frame(vendorID = '1'))", ["model"]),
        ("# sample_trip in a comment\nprint('best')", []),
        ("x = 1\nf(x, y = 2)", []),
        ("if (is.null(cluster)) {\n  cluster <- 1\n}", ["cluster"]),
    ],
)
def test_undefined_names(code: str, expected: list[str]) -> None:
    assert undefined_names(code, set()) == expected


def _p(key: str, code: str | None, action: str = "any") -> Panel:
    return Panel(key, action, code)


def test_check_files_follows_the_produced_by_rules(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "m.R").write_text(
        'd <- read.csv(file.path(opt$data_folder, "prep.csv"))\nsaveRDS(d, file = "outputs/model.rds")\n')
    course = {"train/m.R", "score/score.R"}
    good = [
        _p("a/load", 'df <- read_parquet("green_taxi_data.parquet")', "data.fetch"),
        _p("a/scripts", None, "scripts.copy"),
        _p("a/prepare", 'write.csv(df, "train/prep.csv")'),
        _p("a/upload", 'upload_files_to_datastore(ds, list("train/prep.csv"), target_path = "t")'),
        _p("a/register", 'data_path(ds, "t/prep.csv")'),
        _p("a/train", 'estimator(source_directory = "train", entry_script = "m.R",\n'
                      '          script_params = list("--data_folder" = ds$path("t")))'),
        _p("a/download", 'download_files_from_run(best, prefix = "outputs/")\nreadRDS("outputs/model.rds")'),
        _p("a/register-model", 'register_model_from_run(best, model_path = "outputs/model.rds")'),
        _p("a/score", 'readRDS(file.path(Sys.getenv("AZUREML_MODEL_DIR"), "model.rds"))'),
        _p("a/deploy", 'inference_config(entry_script = "score.R", source_directory = "score")'),
    ]
    assert check_files(good, course, tmp_path) == []

    def problems_when(index: int, code: str | None, action: str = "any") -> list[str]:
        changed = list(good)
        changed[index] = _p(good[index].key, code, action)
        return check_files(changed, course, tmp_path)

    assert problems_when(9, 'inference_config(entry_script = "score.R")')  # not at the top
    assert problems_when(5, good[5].code.replace("m.R", "model4.R"))  # no such script
    assert problems_when(6, 'readRDS("outputs/model.rds")')  # never downloaded
    assert problems_when(7, 'register_model_from_run(best, model_path = "outputs/model.pkl")')
    assert problems_when(8, 'readRDS(file.path(Sys.getenv("AZUREML_MODEL_DIR"), "other.rds"))')
    assert problems_when(4, 'data_path(ds, "u/prep.csv")')
    assert problems_when(3, 'upload_files_to_datastore(ds, list("data/prep.csv"), target_path = "t")')
    assert problems_when(0, 'df <- read_parquet("green_taxi_data.parquet")')  # only data.fetch has it
    assert problems_when(2, 'write.csv(df, "train/prep.csv")\nfoo("x.json")')  # no rule for foo()
    assert problems_when(1, None, "other")  # nothing copied: train/m.R is missing


# --------------------------------------------------------------------------------------------
# With R installed: parse everything, run the five models, score the sample trip
# --------------------------------------------------------------------------------------------

RSCRIPT = shutil.which("Rscript")
needs_r = pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")


def _rscript(args: list[str], cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    assert RSCRIPT is not None
    return subprocess.run([RSCRIPT, "--vanilla", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **env})


def _r_has(package: str) -> bool:
    if RSCRIPT is None:
        return False
    done = _rscript(["-e", f'quit(status = !requireNamespace("{package}", quietly = TRUE))'], Path.cwd())
    return done.returncode == 0


def _r_files() -> list[Path]:
    return sorted(course_resource("train").glob("*.R")) + sorted(course_resource("score").glob("*.R"))


def test_the_r_files_exist() -> None:
    names = {p.name for p in _r_files()}
    assert {f"model{n}.R" for n in range(1, 6)} | {"score.R"} <= names


@needs_r
def test_r_parses_every_r_file_and_panel(tmp_path: Path, panels: list[Panel]) -> None:
    files = list(_r_files())
    for panel in panels:
        if panel.code:
            path = tmp_path / (panel.key.replace("/", "__") + ".R")
            path.write_text(panel.code, encoding="utf-8")
            files.append(path)
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(str(f) for f in files) + "\n", encoding="utf-8")
    script = (
        'for (f in readLines(commandArgs(TRUE)[1])) '
        'tryCatch(invisible(parse(file = f)), error = function(e) cat("FAIL", f, conditionMessage(e), "\\n"))'
    )
    done = _rscript(["-e", script, str(listing)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "FAIL" not in done.stdout, done.stdout


# Stand-ins for what azuremlsdk gives a run: log_metric_to_run prints the metric; library()
# skips azuremlsdk (not installed here) and loads anything else. Then the script is sourced.
RUN_STUB = r"""
log_metric_to_run <- function(name, value, run = NULL) cat("METRIC", name, format(value, digits = 17), "\n", sep = "\t")
library <- function(package, ...) {
  package <- as.character(substitute(package))
  if (package != "azuremlsdk") base::library(package, character.only = TRUE, ...)
}
source(Sys.getenv("MODEL_SCRIPT"))
"""


@pytest.fixture(scope="module")
def model_runs(tmp_path_factory, data_path: Path) -> dict[int, tuple[dict[str, float], Path]]:
    """The five scripts, each run in a folder of its own on the prepared course data."""
    if RSCRIPT is None or not _r_has("optparse"):
        pytest.skip("Rscript with the optparse package is not installed")
    from tutor.prep import load_raw, prepare

    root = tmp_path_factory.mktemp("r-runs")
    data = root / "data"
    data.mkdir()
    prepared, _ = prepare(load_raw(data_path))
    prepared.to_csv(data / "green_taxi_prepared.csv", index=False)
    (root / "stub.R").write_text(RUN_STUB, encoding="utf-8")
    results = {}
    for n in range(1, 6):
        work = root / f"run{n}"
        work.mkdir()
        script = course_resource("train") / f"model{n}.R"
        done = _rscript([str(root / "stub.R"), "--data_folder", str(data)], work, MODEL_SCRIPT=str(script))
        assert done.returncode == 0, f"model{n}.R failed:\n{done.stderr[-2000:]}"
        metrics = {}
        for line in done.stdout.splitlines():
            if line.startswith("METRIC\t"):
                _, name, value = line.split("\t")[:3]
                metrics[name] = float(value)
        results[n] = (metrics, work / "outputs" / "model.rds")
    return results


def test_the_five_models_log_plausible_metrics(model_runs) -> None:
    for n, (metrics, model_file) in model_runs.items():
        assert set(metrics) == {"R^2", "RMSE Train", "RMSE Test"}, n
        assert 0.5 < metrics["R^2"] < 1, (n, metrics)
        assert 1 < metrics["RMSE Train"] < 10 and 1 < metrics["RMSE Test"] < 10, (n, metrics)
        assert model_file.is_file(), n
    # The same split in every script: the full model fits the training trips at least as well.
    assert model_runs[4][0]["RMSE Train"] <= model_runs[1][0]["RMSE Train"]


def test_the_sample_trip_through_the_panels_and_score_r(model_runs, panels: list[Panel], tmp_path: Path) -> None:
    """predict-locally and call, run as written, with stand-ins for the workspace calls."""
    if not _r_has("jsonlite"):
        pytest.skip("the R package jsonlite is not installed")
    by_key = {p.key: p.code for p in panels}
    model_file = model_runs[4][1]
    session = f"""
best <- "the best run"
download_files_from_run <- function(run, prefix) {{
  dir.create("outputs", showWarnings = FALSE)
  file.copy("{model_file}", "outputs/model.rds")
}}
{by_key["day1-training/predict-locally"]}
local_prediction <- predict(model, newdata = data.frame(vendorID = "1", passengerCount = 1, tripDistance = 4.2,
  month_num = "1", day_of_month = "4", day_of_week = "1", hour_of_day = "18"))
Sys.setenv(AZUREML_MODEL_DIR = "outputs")
source("{course_resource("score") / "score.R"}")
run <- init()
service <- list(scoring_uri = "http://127.0.0.1:1/score")
get_webservice_keys <- function(service) c("key1", "key2")
invoke_webservice <- function(service, input_data) cat("ANSWER", run(input_data), "\\n")
{by_key["day1-deploy/call"]}
cat("LOCAL", local_prediction, "\\n")
"""
    (tmp_path / "session.R").write_text(session, encoding="utf-8")
    done = _rscript([str(tmp_path / "session.R")], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = re.search(r"ANSWER \[([-\d.e]+)\]", done.stdout)
    local = re.search(r"LOCAL ([-\d.e]+)", done.stdout)
    assert answer and local, done.stdout
    assert 5 < float(answer.group(1)) < 60
    assert float(answer.group(1)) == pytest.approx(float(local.group(1)), abs=1e-3)
