"""Where a path points: a local file or folder, or an fsspec URL (`s3://bucket/key`, ...).

S3-compatible stores are reached through s3fs (`pip install -e ".[s3]"`). The endpoint comes
from the standard environment (`AWS_ENDPOINT_URL`, then the `storage.endpoint_url` setting;
neither: AWS itself); credentials from the standard AWS chain (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, profiles, instance roles).
"""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from latam_airlines.errors import InputError

S3_PROTOCOLS = ("s3", "s3a")


def is_url(path: str | Path) -> bool:
    """True for `protocol://...` locations other than plain local paths (`file://` counts as local)."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def s3_options() -> dict:
    """s3fs keyword arguments: the endpoint (env first, then params.yaml) and no listing cache,
    so a folder written a moment ago is listed as it is now."""
    options: dict = {"use_listings_cache": False}
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        from latam_airlines.settings import current

        endpoint = current().storage.endpoint_url
    if endpoint:
        options["endpoint_url"] = str(endpoint)
    return options


def filesystem(location: str | Path) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem holding `location` and the path inside it; InputError naming the URL when
    it cannot be opened (unknown protocol, s3:// without s3fs, no bucket in the URL)."""
    text = str(location)
    if not is_url(text):
        return LocalFileSystem(), str(Path(text.removeprefix("file://")))
    protocol = text.split("://", 1)[0].lower()
    options = s3_options() if protocol in S3_PROTOCOLS else {}
    try:
        fs, root = fsspec.core.url_to_fs(text, **options)
    except ImportError:
        extra = ' (pip install -e ".[s3]")' if protocol in S3_PROTOCOLS else ""
        raise InputError(f"no filesystem installed for {protocol}://{extra}", file=text) from None
    except ValueError as error:  # unknown protocol
        raise InputError(f"cannot open this location ({error})", file=text) from None
    if protocol in S3_PROTOCOLS and (not root.strip("/") or text.split("://", 1)[1].startswith("/")):
        raise InputError("no bucket in this URL (expected s3://bucket/key)", file=text)
    return fs, root


def full_name(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """`path` as a user gives it: a plain local path, or a URL with its protocol."""
    return path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)


def join(location: str | Path, *parts: str) -> str:
    """`location/part/...` for a local path or a URL (no doubled slashes)."""
    if not is_url(location):
        return str(Path(location).joinpath(*parts))
    return "/".join([str(location).rstrip("/"), *(part.strip("/") for part in parts)])


def exists(location: str | Path) -> bool:
    fs, root = filesystem(location)
    return fs.exists(root)


def one_line(error: BaseException, limit: int = 200) -> str:
    """An exception's message on one line, shortened."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[:limit] + "…"
