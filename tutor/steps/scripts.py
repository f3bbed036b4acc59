"""Get the course scripts: copy ``train/`` and ``score/`` into the learner's course folder.

Later runs and deployments use the learner's copies, so a learner can edit train.py and
run it again. A file the learner changed is never replaced without asking; a manifest
of what was copied tells "the learner edited it" apart from "the course shipped a newer one".
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from tutor.display import Display, Facts, Note, Table
from tutor.paths import course_resource
from tutor.steps import action
from tutor.steps.base import StepContext, StepResult

FOLDERS = ("train", "score")
MANIFEST = Path(".tutor") / "scripts.json"
IGNORED = {"__pycache__", "outputs", ".ipynb_checkpoints"}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shipped_files(folder: str) -> list[Path]:
    root = course_resource(folder)
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part in IGNORED for part in p.relative_to(root).parts)
        and p.suffix not in (".pyc",)
    )


@action("scripts.copy")
def copy_scripts(ctx: StepContext) -> StepResult:
    """Copy the course's training and scoring scripts into the course folder."""
    root = ctx.course_dir.root
    manifest_path = root / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}

    rows: list[list[str]] = []
    kept: list[str] = []
    counts = {"copied": 0, "updated": 0, "unchanged": 0, "kept": 0, "replaced": 0}
    for folder in FOLDERS:
        source_root = course_resource(folder)
        for source in _shipped_files(folder):
            rel = Path(folder) / source.relative_to(source_root)
            dest = root / rel
            shipped = _digest(source)
            if not dest.exists():
                outcome = "copied"
            else:
                current = _digest(dest)
                if current == shipped:
                    outcome = "unchanged"
                elif manifest.get(str(rel)) == current:
                    outcome = "updated"  # not edited by the learner; the course has a newer copy
                elif ctx.confirm(
                    f"{rel} is different from the course's copy (you may have edited it). "
                    "Replace it with the course's version?",
                    False,
                ):
                    outcome = "replaced"
                else:
                    outcome = "kept"
            if outcome in ("copied", "updated", "replaced"):
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)
                manifest[str(rel)] = shipped
            if outcome == "kept":
                kept.append(str(rel))
            counts[outcome] += 1
            rows.append([str(rel), outcome])

    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    display: list[Display] = [
        Table("Course scripts", ["file", "what happened"], rows),
        Facts("Where they are", [(f, str(root / f)) for f in FOLDERS]),
    ]
    if kept:
        display.append(Note(f"Kept your edited {', '.join(kept)}; the later steps use your version.", "info"))
    return StepResult(
        evidence={**counts, "files": len(rows), "kept_files": kept},
        outputs={"train_dir": str(root / "train"), "score_dir": str(root / "score")},
        display=display,
        summary=f"{len(rows)} files in train/ and score/ ({counts['copied']} copied, {counts['kept']} kept as you edited them).",
    )
