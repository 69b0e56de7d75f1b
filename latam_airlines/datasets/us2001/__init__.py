"""US domestic flights of January-June 2001: 3,000,000 federal on-time records, fetched from the
npm registry by package name (`vega-datasets@3.2.1`, its `data/flights-3m.parquet`) and checked
against the SHA-256 recorded here. `python -m latam_airlines.datasets.us2001` (the DVC stage
`fetch_us2001`) writes data/external/flights-3m.parquet; a small real slice ships beside this
file for tests (see README.md).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from latam_airlines.io import atomic_path

log = logging.getLogger(__name__)

US2001_DIR = Path(__file__).resolve().parent
US2001_SAMPLE = US2001_DIR / "flights_2001_sample.parquet"  # 3 airports' departures, see README.md
PACKAGE = "vega-datasets@3.2.1"
MEMBER = "package/data/flights-3m.parquet"
SHA256 = "dbeb920c90f59b6ccaff823dcc3d08f25a97fa1ce128d93f40be4e931f5900b0"
US2001_PATH = Path("data/external/flights-3m.parquet")  # relative to the project root


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_us2001(output: str | Path | None = None, npm: str = "npm") -> Path:
    """Write the 3 M flights to `output` (default: data/external/flights-3m.parquet under the
    project root), unless a file with the recorded checksum is already there.

    `npm pack` fetches the package by name and version (the registry checks its integrity);
    the Parquet member is then checked against SHA256 before it replaces `output` atomically.
    """
    from latam_airlines.settings import resolve

    target = Path(output) if output is not None else resolve(US2001_PATH)
    if target.exists() and sha256_of(target) == SHA256:
        log.info("%s is already there (sha256 matches)", target)
        return target
    if shutil.which(npm) is None:
        raise RuntimeError(f"`{npm}` is not on PATH: install Node.js (npm) to fetch {PACKAGE}")
    with tempfile.TemporaryDirectory(prefix="us2001-") as scratch:
        packed = subprocess.run(
            [npm, "pack", PACKAGE, "--silent", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            cwd=scratch,
        )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if packed.returncode != 0 or not tarballs:
            raise RuntimeError(f"npm pack {PACKAGE} failed: {packed.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0], "r:gz") as archive, atomic_path(target) as temporary:
            member = archive.extractfile(MEMBER)
            if member is None:
                raise RuntimeError(f"{PACKAGE} has no {MEMBER}")
            with open(temporary, "wb") as handle:
                shutil.copyfileobj(member, handle, 1 << 20)
            found = sha256_of(temporary)
            if found != SHA256:
                raise RuntimeError(f"{PACKAGE}:{MEMBER} has sha256 {found}, expected {SHA256}; not written")
    log.info("wrote %s (%s, sha256 %s)", target, PACKAGE, SHA256)
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m latam_airlines.datasets.us2001 [OUTPUT]`: fetch, verify, write."""
    arguments = sys.argv[1:] if argv is None else argv
    path = fetch_us2001(arguments[0] if arguments else None)
    print(f"{path}: {PACKAGE} {MEMBER}, sha256 {SHA256}")
    return 0


__all__ = ["PACKAGE", "SHA256", "US2001_PATH", "US2001_SAMPLE", "fetch_us2001", "sha256_of"]
