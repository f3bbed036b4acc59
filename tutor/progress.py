"""The learner's progress file: the resume point and the instructor's record.

``progress/<username>.json`` holds, for each step, its status, times, attempts, hints,
evidence and the outputs later steps need. It is written atomically (a temporary file,
fsync, rename) with the previous good version kept as ``<username>.json.bak``, guarded by
a lock so two tutors never write one learner's file, and it never holds a secret: keys,
tokens and passwords are scrubbed before anything is written. The format is described in
``progress/README.md``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Self

from tutor import __version__
from tutor.errors import ProgressError
from tutor.fileio import FileLock, atomic_write

SCHEMA_VERSION = 1
#: The SDK tracks a learner can follow: azureml-core (the original course) or azure-ai-ml.
SDKS = ("v1", "v2")
SDK_NAMES = {"v1": "azureml-core", "v2": "azure-ai-ml"}
FORMAT_NAME = "aml-tutor-progress"

# Steps move between these. A missing entry means "not started".
STATUSES = ("running", "done", "skipped", "failed")

# schema version N -> function turning a version-N document into version N+1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_SECRET_NAME = re.compile(r"(^|[_\-.])(keys?|token|tokens|password|passwd|secret|secrets|credential|credentials)$", re.I)
REDACTED = "***"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def scrub(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking entry replaced by ``***``.

    A dictionary entry is secret when its name ends in key(s), token, password, secret
    or credential(s) (``primary_key``, ``api-key``, ``token``); ``keys_file`` or
    ``key_count`` are not. Applied to everything the progress file stores.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(k, str) and _SECRET_NAME.search(k) and v not in (None, "", [], {}):
                out[k] = REDACTED
            else:
                out[k] = scrub(v)
        return out
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def new_document(username: str, workspace_kind: str, workspace_name: str) -> dict[str, Any]:
    stamp = now()
    return {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "tutor_version": __version__,
        "learner": username,
        "workspace": {"kind": workspace_kind, "name": workspace_name},
        "created_at": stamp,
        "updated_at": stamp,
        "current_step": None,
        "steps": {},
    }


def migrate(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """Bring an older document up to :data:`SCHEMA_VERSION`; refuse a newer one."""
    version = doc.get("schema_version")
    if not isinstance(version, int):
        raise ProgressError(
            f"{path} has no usable schema_version, so it is not an aml-tutor progress file this version can read.",
            f"Move it aside (mv {path} {path}.old) and start again, or restore {path.name}.bak.",
        )
    if version > SCHEMA_VERSION:
        raise ProgressError(
            f"{path} was written by a newer aml-tutor (progress format {version}; this one reads up to {SCHEMA_VERSION}).",
            "Upgrade aml-tutor (pip install -U aml-tutor) to continue; the file was left untouched.",
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProgressError(
                f"{path} uses progress format {version}, which this aml-tutor cannot convert.",
                f"Move it aside (mv {path} {path}.old) and start again.",
            )
        doc = step(doc)
        version += 1
        doc["schema_version"] = version
    return doc


# The typed fields of a step entry: (field, what it must be, a test). Other fields are kept as they are.
_NUMBER = (int, float)
_ENTRY_FIELDS: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    ("status", f"null or one of {', '.join(STATUSES)}", lambda v: v is None or v in STATUSES),
    *((name, "a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool))
      for name in ("attempts", "failures", "hints_used")),
    *((name, "a number", lambda v: v is None or (isinstance(v, _NUMBER) and not isinstance(v, bool)))
      for name in ("duration_s", "time_spent_s")),
    *((name, "an object", lambda v: v is None or isinstance(v, dict))
      for name in ("evidence", "outputs", "partial", "question")),
    *((name, "a string", lambda v: v is None or isinstance(v, str))
      for name in ("started_at", "finished_at", "error", "summary")),
    ("unmet", "a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
)


def document_problem(doc: Any) -> str | None:
    """What makes ``doc`` unusable as a (current-version) progress document, or None.

    Checked on every read, so ``status``, ``start`` and the rest never trip over a
    hand-edited entry, and before a file is kept as the last good copy.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return "it is JSON but not an aml-tutor progress file"
    if not isinstance(doc.get("learner"), str) or not isinstance(doc.get("steps"), dict):
        return "it is missing its learner or steps"
    if doc.get("workspace") is not None and not isinstance(doc["workspace"], dict):
        return f"its workspace is {_shown(doc['workspace'])} instead of an object"
    if doc.get("sdk") is not None and doc["sdk"] not in SDKS:
        return f"its sdk is {_shown(doc['sdk'])} instead of one of {', '.join(SDKS)}"
    if doc.get("current_step") is not None and not isinstance(doc["current_step"], str):
        return f"its current_step is {_shown(doc['current_step'])} instead of a step id"
    for key, entry in doc["steps"].items():
        if not isinstance(entry, dict):
            return f"the entry of step '{key}' is {_shown(entry)} instead of an object"
        for name, expected, valid in _ENTRY_FIELDS:
            if name in entry and not valid(entry[name]):
                return f"the {name} of step '{key}' is {_shown(entry[name])} instead of {expected}"
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def read_document(path: Path) -> dict[str, Any]:
    """Read and check a progress file (no lock). Raises :class:`ProgressError`."""
    backup = path.with_name(path.name + ".bak")
    recover = (
        f"The last good copy is {backup}: restore it with `cp {backup} {path}`, "
        f"or start this learner over with `tutor reset --all --username {path.stem}`."
        if backup.exists()
        else f"There is no backup copy; move it aside (mv {path} {path}.damaged) to start over."
    )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgressError(f"The progress file {path} cannot be read ({exc}).", recover) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProgressError(
            f"The progress file {path} is damaged (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may have been cut short or edited by hand.",
            recover,
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ProgressError(f"{path} is JSON but not an aml-tutor progress file.", recover)
    doc = migrate(doc, path)
    problem = document_problem(doc)
    if problem is not None:
        raise ProgressError(f"The progress file {path} cannot be used: {problem} "
                            "(edited by hand, or damaged). Nothing was changed.", recover)
    return doc


def unwritable(folder: Path, exc: OSError) -> ProgressError:
    """The error for a folder the tutor cannot write its files in."""
    return ProgressError(
        f"The folder {folder} cannot be written ({exc.strerror or exc}), so the tutor cannot keep progress there.",
        "Choose a course folder you can write to with --course-dir DIR (it is created if missing), "
        "or fix this one's permissions; nothing already saved was lost.",
    )


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as exc:
        raise ProgressError(
            f"Could not write {path} ({exc.strerror or exc}).",
            "Check that the course folder is writable and the disk is not full; nothing already saved was lost.",
        ) from None


class ProgressLock:
    """An exclusive lock on one learner's progress file.

    It uses ``flock`` on ``<file>.lock`` so a crashed tutor never leaves a stale lock
    behind; the holder writes its pid, host and start time into the lock file so a
    second tutor can say who holds it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self._lock = FileLock(self.path, record_holder=True)

    def acquire(self) -> None:
        try:
            taken = self._lock.try_acquire()
        except OSError as exc:
            if not exc.filename:  # the lock call itself failed, not the folder
                raise
            raise unwritable(self.path.parent, exc) from None
        if not taken:
            holder = self.holder()
            who = (
                f"tutor process {holder.get('pid')} on {holder.get('host')} (since {holder.get('since')})"
                if holder
                else "another tutor process"
            )
            learner = self.path.name.removesuffix(".json.lock")
            raise ProgressError(
                f"{learner}'s progress is in use by {who}.",
                "Finish or quit that tutor first (two tutors writing one learner's file would lose work); "
                "if it is stuck, end that process and try again.",
            ) from None

    def holder(self) -> dict[str, Any]:
        return self._lock.holder()

    def release(self) -> None:
        self._lock.release()


def _no_progress(path: Path, username: str) -> ProgressError:
    return ProgressError(f"There is no progress file for '{username}' at {path}.",
                         "Check --username and --course-dir, or start the course with `tutor start`.")


class Progress:
    """One learner's progress, loaded (and locked) for updating.

    Use :meth:`open` as a context manager; every ``mark_*`` call saves at once, so a
    killed process loses no finished step.
    """

    def __init__(self, path: Path, doc: dict[str, Any], lock: ProgressLock | None) -> None:
        self.path = path
        self.doc = doc
        self._lock = lock

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        username: str,
        *,
        workspace_kind: str = "local",
        workspace_name: str = "",
        lock: bool = True,
        create: bool = True,
    ) -> Self:
        if not create and not path.is_file():
            raise _no_progress(path, username)
        guard = ProgressLock(path) if lock else None
        if guard is not None:
            guard.acquire()
        try:
            try:
                doc = read_document(path)
            except FileNotFoundError:
                if not create:
                    raise _no_progress(path, username) from None
                doc = new_document(username, workspace_kind, workspace_name)
            if doc.get("learner") != username:
                raise ProgressError(
                    f"{path} belongs to '{doc.get('learner')}', not '{username}'.",
                    "Use the file named after the learner, or check --username.",
                )
            return cls(path, doc, guard)
        except BaseException:
            if guard is not None:
                guard.release()
            raise

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------
    @property
    def username(self) -> str:
        return self.doc["learner"]

    @property
    def steps(self) -> dict[str, dict[str, Any]]:
        return self.doc["steps"]

    def status(self, key: str) -> str | None:
        entry = self.steps.get(key)
        return entry.get("status") if entry else None

    def is_finished(self, key: str) -> bool:
        return self.status(key) in ("done", "skipped")

    def outputs(self, order: Iterable[str]) -> dict[str, Any]:
        """The outputs of every done step, later steps winning, in course ``order``."""
        return {name: self.steps[key]["outputs"][name] for name, key in self.output_sources(order).items()}

    def output_sources(self, order: Iterable[str]) -> dict[str, str]:
        """For each output in :meth:`outputs`, the key of the step that produced it."""
        sources: dict[str, str] = {}
        for key in order:
            entry = self.steps.get(key)
            if entry and entry.get("status") == "done":
                sources.update({name: key for name in entry.get("outputs") or {}})
        return sources

    # -- writing -----------------------------------------------------------------
    def _entry(self, key: str) -> dict[str, Any]:
        return self.steps.setdefault(
            key, {"status": None, "attempts": 0, "hints_used": 0, "time_spent_s": 0.0}
        )

    @property
    def sdk(self) -> str:
        """The SDK track the learner follows ("v1" unless they chose v2)."""
        return self.doc.get("sdk") or "v1"

    def set_sdk(self, sdk: str) -> None:
        if sdk not in SDKS:
            raise ValueError(f"unknown SDK track {sdk!r}")
        self.doc["sdk"] = sdk

    def set_workspace(self, kind: str, name: str, config: str | None = None) -> None:
        """Record which workspace the learner uses (a config file's path, never its credentials)."""
        self.doc["workspace"] = {"kind": kind, "name": name}
        if config:
            self.doc["workspace"]["config"] = config

    def mark_running(self, key: str) -> None:
        entry = self._entry(key)
        entry["status"] = "running"
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        entry["started_at"] = now()
        entry.pop("error", None)
        entry.pop("unmet", None)
        self.doc["current_step"] = key
        self.save()

    def mark_done(self, key: str, *, evidence: dict[str, Any], outputs: dict[str, Any], duration_s: float,
                  summary: str = "") -> None:
        entry = self._entry(key)
        entry["status"] = "done"
        entry["finished_at"] = now()
        entry["duration_s"] = round(duration_s, 3)
        entry["time_spent_s"] = round(float(entry.get("time_spent_s", 0.0)) + duration_s, 3)
        entry["evidence"] = scrub(evidence)
        entry["outputs"] = scrub(outputs)
        entry.pop("partial", None)
        entry.pop("unmet", None)
        if summary:
            entry["summary"] = summary
        entry.pop("error", None)
        self.save()

    def mark_failed(self, key: str, *, error: str, duration_s: float) -> None:
        entry = self._entry(key)
        entry["status"] = "failed"
        entry["finished_at"] = now()
        entry["time_spent_s"] = round(float(entry.get("time_spent_s", 0.0)) + duration_s, 3)
        entry["error"] = error
        entry["failures"] = int(entry.get("failures", 0)) + 1
        self.save()

    def keep_unmet(self, key: str, *, evidence: dict[str, Any], unmet: Iterable[str]) -> None:
        """An attempt ran to the end but its ``done_when`` did not hold: keep the evidence it
        produced and the conditions it missed, for the instructor. Written by the
        :meth:`mark_failed` that follows (one save)."""
        entry = self._entry(key)
        entry["evidence"] = scrub(evidence)
        entry["unmet"] = [str(condition) for condition in unmet]

    def save_partial(self, key: str, state: dict[str, Any]) -> None:
        """Keep what an unfinished attempt has started (e.g. submitted run ids) for the next one."""
        self._entry(key)["partial"] = scrub(state)
        self.save()

    def partial(self, key: str) -> dict[str, Any]:
        entry = self.steps.get(key) or {}
        if entry.get("status") == "done":
            return {}
        return dict(entry.get("partial") or {})

    def mark_skipped(self, key: str) -> None:
        entry = self._entry(key)
        entry["status"] = "skipped"
        entry["finished_at"] = now()
        self.doc["current_step"] = key
        self.save()

    def record_hint(self, key: str) -> None:
        entry = self._entry(key)
        entry["hints_used"] = int(entry.get("hints_used", 0)) + 1
        self.save()

    def record_exercise(self, key: str, *, status: str | None = None, code: str | None = None,
                        attempt: bool = False, hint: bool = False, solution_shown: bool = False,
                        seconds: float = 0.0, file: str | None = None) -> None:
        """What the learner did in a step's exercise: attempts, hints, time, how it ended, their code.

        ``code`` is the learner's accepted code, already scrubbed of anything that looks like a
        key (see tutor.exercises.runner.scrub_code); it is scrubbed here once more by name.
        """
        entry = self._entry(key)
        record = entry.setdefault("exercise", {"status": "open", "attempts": 0, "hints_used": 0,
                                               "time_spent_s": 0.0})
        if attempt:
            record["attempts"] = int(record.get("attempts", 0)) + 1
        if hint:
            record["hints_used"] = int(record.get("hints_used", 0)) + 1
        if solution_shown:
            record["solution_shown"] = True
        if seconds:
            record["time_spent_s"] = round(float(record.get("time_spent_s", 0.0)) + seconds, 1)
        if status is not None:
            record["status"] = status
        if code is not None:
            record["code"] = code[:20000]
        if file is not None:
            record["file"] = file  # the code is this course file as the learner wrote it
        self.save()

    def record_answer(self, key: str, *, given: str, correct: bool) -> None:
        entry = self._entry(key)
        question = entry.setdefault("question", {"attempts": 0, "correct": False})
        question["attempts"] = int(question.get("attempts", 0)) + 1
        question["correct"] = bool(correct)
        question["last_answer"] = str(given)[:200]
        self.save()

    def record_question_skipped(self, key: str, reason: str) -> None:
        entry = self._entry(key)
        question = entry.setdefault("question", {"attempts": 0, "correct": False})
        question["not_asked"] = reason
        self.save()

    def reset(self, keys: Iterable[str]) -> list[str]:
        removed = [k for k in keys if self.steps.pop(k, None) is not None]
        if self.doc.get("current_step") in removed:
            self.doc["current_step"] = None
        self.save()
        return removed

    def save(self) -> None:
        self.doc["updated_at"] = now()
        self.doc["tutor_version"] = __version__
        # Evidence, outputs and partial state are scrubbed as they are recorded; the
        # document's own structure (step ids such as "day2-deploy/rotate-key") is not data.
        text = json.dumps(self.doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        if self.path.exists():
            # Keep the last good copy; a damaged current file is never copied over it.
            backup = self.path.with_name(self.path.name + ".bak")
            try:
                previous: str | None = self.path.read_text(encoding="utf-8")
                if document_problem(json.loads(previous or "null")) is not None:
                    previous = None
            except (OSError, ValueError):
                previous = None
            if previous is not None:
                atomic_write_text(backup, previous)
        atomic_write_text(self.path, text)
