"""Copies of the package at a git revision, importable side by side under their own names (A/B tools)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = ("eventsim", "models", "learning")      # models and learning install as eventsim.models / .learning


def export_package(rev: str, dest: str, name: str) -> None:
    """Copy revision `rev` (a git revision, or WORKTREE for the files on disk) of the package to
    dest/name, with absolute imports renamed to `name`; with dest on sys.path it imports as `name`."""
    pkg = os.path.join(dest, name)
    if rev == "WORKTREE":
        shutil.copytree(os.path.join(ROOT, "eventsim"), pkg, ignore=shutil.ignore_patterns("__pycache__"))
        for sub in PARTS[1:]:
            shutil.copytree(os.path.join(ROOT, sub), os.path.join(pkg, sub),
                            ignore=shutil.ignore_patterns("__pycache__"))
    else:
        tar = subprocess.run(["git", "archive", rev, *PARTS], cwd=ROOT, capture_output=True, check=True).stdout
        raw = os.path.join(dest, name + "_raw")
        tarfile.open(fileobj=io.BytesIO(tar)).extractall(raw, filter="data")
        shutil.move(os.path.join(raw, "eventsim"), pkg)
        for sub in PARTS[1:]:
            shutil.move(os.path.join(raw, sub), os.path.join(pkg, sub))
        shutil.rmtree(raw)
    for dirpath, _, files in os.walk(pkg):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                text = open(path).read()
                new = re.sub(r"\b(from|import) eventsim([. ])", rf"\1 {name}\2", text)
                new = new.replace('files("eventsim")', f'files("{name}")')
                if new != text:
                    open(path, "w").write(new)
