"""Atomic writers: output appears whole under its final name, or not at all.

A writer killed mid-write (kill -9) leaves its hidden `.<name>.<pid>.<random>.tmp` beside the
target; the next write of the same target removes such leftovers (see `clean_stale_temporaries`).
`check_output` tells a user, before any work starts, that an output path cannot be written.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from latam_airlines.errors import InputError

# A leftover whose writer's pid is alive (or unknown) is removed once it is this old: pids are
# reused, and no write of this package takes an hour.
STALE_TEMPORARY_S = 3600.0


def check_output(path: str | Path, *, folder: bool = False) -> Path:
    """InputError (exit 2) unless `path` can be written: a file path must not be a folder, a
    folder path not a file, no parent may be a file, and the nearest existing parent must be a
    writable folder. Checked before work starts; nothing is created."""
    target = Path(path)
    if "://" in str(path):
        return target  # object stores (s3://...) are checked by the write itself
    if folder and target.exists() and not target.is_dir():
        raise InputError("the output folder is a file", file=str(target))
    if not folder and target.is_dir():
        raise InputError("the output path is a folder; give a file name", file=str(target))
    parent = target if folder and target.is_dir() else target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write under {parent}: it is a file, not a folder", file=str(target))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {parent}: permission denied", file=str(target))
    if not folder and target.exists() and not os.access(target, os.W_OK) and not os.access(parent, os.W_OK):
        raise InputError("the output file is not writable", file=str(target))
    return target


def check_input(path: str | Path) -> Path:
    """InputError (exit 2) unless `path` is a readable file (not missing, not a folder)."""
    source = Path(path)
    if "://" in str(path):
        return source
    if not source.exists():
        raise InputError("no such file", file=str(source))
    if source.is_dir():
        raise InputError("this is a folder; give a file", file=str(source))
    if not os.access(source, os.R_OK):
        raise InputError("the file is not readable (permission denied)", file=str(source))
    return source


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove leftovers of interrupted writes of `target`: its temporaries whose writer (pid in
    the name) is dead, or that are older than STALE_TEMPORARY_S. Returns what was removed."""
    target = Path(target)
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:(\d+)\.)?[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        candidates = list(target.parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if match is None:
            continue
        pid = int(match.group(1)) if match.group(1) else None
        try:
            old = now - candidate.stat().st_mtime > STALE_TEMPORARY_S
        except FileNotFoundError:
            continue
        if (pid is not None and pid != os.getpid() and not _pid_alive(pid)) or old:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                candidate.unlink()
                removed.append(candidate)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.
    Leftovers of earlier interrupted writes of `path` are removed first."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
    )
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet or CSV (by suffix), atomically."""
    target = Path(path)
    # attrs (the source path a table was read from) would be stored in the Parquet metadata:
    # the same data read from another folder would give different bytes (and a new dvc.lock).
    frame = frame.copy(deep=False)
    frame.attrs = {}
    with atomic_path(target) as temporary:
        if target.suffix.lower() == ".csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
    return target


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically."""
    target = Path(path)
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target
