"""Atomic writers: output appears whole under its final name, or not at all.

Local files: written to a hidden `.<name>.<pid>.<random>.tmp` beside the target, then renamed
onto it (`os.replace`). A writer killed mid-write (kill -9) leaves that temporary; the next write
of the same target removes such leftovers (see `clean_stale_temporaries`).

Objects (`s3://...`): written to a local temporary, then uploaded in one PUT (or one multipart
upload, which S3 completes in one step): a reader sees the previous object or the new one,
never part of one; a failed write leaves the previous object as it was.

Folders (`published_folder`): locally, `<target>` is a symlink onto a version folder
`<parent>/.builds/<name>-<stamp>-*/`; a run builds a new version, then switches the link in one
step, so a reader always finds a whole folder and a failed or killed run leaves the live one as
it was. On S3 there is no rename: the folder is built locally, uploaded under a fresh staging
prefix `<parent>/.builds/<name>-<stamp>-*/` (a failure up to here leaves the live folder
untouched), then published object by object (server-side copies onto `<target>/`, then objects
the new version lacks are deleted, then the staging prefix). Each object is always whole, but
the folder as a whole is not switched in one step: a reader listing it during the publish (a
few requests per file) may see old and new files side by side, and a failure during the publish
leaves such a mix until the next run of the same write publishes again.

`check_output` tells a user, before any work starts, that an output path cannot be written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from latam_airlines.errors import InputError
from latam_airlines.io.location import filesystem, full_name, is_url, one_line

# A leftover whose writer's pid is alive (or unknown) is removed once it is this old: pids are
# reused, and no write of this package takes an hour.
STALE_TEMPORARY_S = 3600.0
BUILDS = ".builds"  # <parent>/.builds/<name>-<stamp>-*/: the versions a published folder points to


def _check_bucket(location: str) -> None:
    """InputError unless the URL's bucket (or top folder) exists and answers."""
    fs, root = filesystem(location)
    bucket = root.strip("/").split("/", 1)[0]
    try:
        found = fs.exists(bucket)
    except Exception as error:  # endpoint down, credentials refused: name the URL
        raise InputError(f"cannot reach the store ({one_line(error)})", file=location) from None
    if not found:
        raise InputError(f"no such bucket {bucket!r}", file=location)


def check_output(path: str | Path, *, folder: bool = False) -> str | Path:
    """InputError (exit 2) unless `path` can be written: a file path must not be a folder, a
    folder path not a file, no parent may be a file, and the nearest existing parent must be a
    writable folder; for a URL, its bucket must exist. Checked before work starts; nothing is
    created."""
    if is_url(path):
        _check_bucket(str(path))
        return str(path)
    target = Path(path)
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


def check_input(path: str | Path, *, folder_ok: bool = False) -> str | Path:
    """InputError (exit 2) unless `path` is a readable file (not missing; a folder only when
    `folder_ok`, e.g. a partitioned Parquet table). URLs are checked through their filesystem."""
    if is_url(path):
        fs, root = filesystem(path)
        try:
            found, is_dir = fs.exists(root), fs.isdir(root)
        except Exception as error:  # endpoint down, credentials refused, no such bucket
            raise InputError(f"cannot read ({one_line(error)})", file=str(path)) from None
        if not found:
            raise InputError("no such file", file=str(path))
        if is_dir and not folder_ok:
            raise InputError("this is a folder; give a file", file=str(path))
        return str(path)
    source = Path(path)
    if not source.exists():
        raise InputError("no such file", file=str(source))
    if source.is_dir() and not folder_ok:
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


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a local temporary path; when the block succeeds it becomes `path` in one step
    (a rename beside a local target; one upload for a URL). Leftovers of earlier interrupted
    local writes of `path` are removed first."""
    if is_url(path):
        with _uploaded(str(path)) as temporary:
            yield temporary
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
    )
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@contextlib.contextmanager
def _uploaded(url: str) -> Iterator[Path]:
    fs, root = filesystem(url)
    name = root.rstrip("/").rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="latam-upload-") as scratch:
        temporary = Path(scratch) / name  # same suffix as the target: writers pick formats by it
        yield temporary
        try:
            fs.put_file(str(temporary), root)
        except Exception as error:  # no bucket, refused, endpoint down: nothing was published
            raise InputError(f"cannot write ({one_line(error)})", file=url) from None


def write_bytes(data: bytes, path: str | Path) -> str | Path:
    """Write a file atomically (local or URL); returns `path`."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return path if is_url(path) else Path(path)


def write_text(text: str, path: str | Path) -> str | Path:
    """Write a UTF-8 text file atomically (local or URL); returns `path`."""
    return write_bytes(text.encode("utf-8"), path)


def read_bytes(path: str | Path) -> bytes:
    """A whole file, local or URL; InputError naming it when it cannot be read."""
    check_input(path)
    fs, root = filesystem(path)
    try:
        with fs.open(root, "rb") as handle:
            return handle.read()
    except Exception as error:
        raise InputError(f"cannot read ({one_line(error)})", file=str(path)) from None


# --- folders ------------------------------------------------------------------------------


@contextlib.contextmanager
def published_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty local folder; when the block succeeds its files become `target` (see the
    module's docstring for what a reader sees, locally and on S3). A failed block publishes
    nothing."""
    if is_url(target):
        with tempfile.TemporaryDirectory(prefix="latam-folder-") as scratch:
            yield Path(scratch)
            _publish_objects(Path(scratch), str(target))
        return
    with _published_local(Path(target)) as folder:
        yield folder


def _publish_objects(local: Path, url: str) -> None:
    """Upload `local` under a fresh staging prefix beside `url`, then copy it onto `url` object
    by object, delete what the new version lacks, and remove the staging prefix."""
    fs, root = filesystem(url)
    root = root.rstrip("/")
    parent, name = root.rsplit("/", 1) if "/" in root else (root, "")
    if not name:
        raise InputError("give a folder inside the bucket (s3://bucket/folder)", file=url)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    staging = f"{parent}/{BUILDS}/{name}-{stamp}-{uuid.uuid4().hex[:8]}"
    files = sorted(path.relative_to(local).as_posix() for path in local.rglob("*") if path.is_file())
    try:
        try:
            for relative in files:
                fs.put_file(str(local / relative), f"{staging}/{relative}")
            old = {path[len(root) + 1 :] for path in fs.find(root)} if fs.isdir(root) else set()
            for relative in files:
                fs.copy(f"{staging}/{relative}", f"{root}/{relative}")
            stale = sorted(old - set(files))
            if stale:
                fs.rm([f"{root}/{relative}" for relative in stale])
        finally:
            with contextlib.suppress(FileNotFoundError):
                fs.rm(staging, recursive=True)
    except InputError:
        raise
    except Exception as error:
        raise InputError(f"cannot write ({one_line(error)})", file=full_name(fs, root)) from None


def _year_lock(builds: Path, name: str):
    """An exclusive lock per target: one run builds and publishes it at a time, so what is left
    in .builds outside the live and previous version is a dead run's (kill -9) and goes."""
    handle = open(builds / f"{name}.lock", "a+")  # noqa: SIM115 - closed by the ExitStack below
    stack = contextlib.ExitStack()
    stack.callback(handle.close)
    with contextlib.suppress(ImportError):  # no fcntl (Windows): runs are not serialised
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return stack


def _live_version(target: Path) -> Path | None:
    """The version folder `target` points to (None: absent, or a plain folder of old layouts)."""
    if not target.is_symlink():
        return None
    return (target.parent / os.readlink(target)).resolve()


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0


def _point(target: Path, version: Path) -> None:
    """Make `target` a symlink to `version` in one step: readers see the old or the new folder,
    never none. A plain folder left by older versions of this code is exchanged with the link
    (Linux), or, where that is not possible, moved aside just before the link takes its place."""
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version, target.parent), link)
    try:
        if target.is_dir() and not target.is_symlink():
            retired = version.parent / f"{target.name}-retired-{uuid.uuid4().hex[:8]}"
            if _exchange(link, target):
                os.replace(link, retired)  # `link` is now the old folder
                return
            os.replace(target, retired)
        os.replace(link, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)


def _clean_stale(output: Path, builds: Path, name: str, keep: set[Path]) -> None:
    """Remove what earlier runs left for `name`: versions neither live nor previous, retired
    folders, unfinished links, and the temporary folders of the older swap."""
    for path in builds.glob(f"{name}-*"):
        if path.resolve() not in keep:
            shutil.rmtree(path, ignore_errors=True)
    for pattern in (f".{name}.link-*", f".{name}.building-*", f".{name}.old-*"):
        for path in output.glob(pattern):
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _published_local(target: Path) -> Iterator[Path]:
    """Yield an empty version folder; when the block succeeds `target` is switched onto it
    (`os.replace` of a new symlink: atomic), the previous version is kept for readers still in
    it, older ones are removed. A failed or killed run leaves the live folder as it was."""
    output = target.parent
    builds = output / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    with _year_lock(builds, target.name):
        previous = _live_version(target)
        _clean_stale(output, builds, target.name, {previous} if previous else set())
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        version: Path | None = Path(tempfile.mkdtemp(dir=builds, prefix=f"{target.name}-{stamp}-"))
        try:
            yield version
            os.chmod(version, 0o777 & ~_umask())
            _point(target, version)
            live, version = version.resolve(), None
            _clean_stale(output, builds, target.name, {live} | ({previous} if previous else set()))
        finally:
            if version is not None:
                shutil.rmtree(version, ignore_errors=True)
