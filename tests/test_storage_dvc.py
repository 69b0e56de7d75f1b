"""The DVC remote on the same S3-compatible store as the data (moto, started by conftest's
`s3_endpoint`): `dvc push` uploads a tracked file's cache, `dvc pull` on a clean checkout brings
it back, byte for byte. Runs in a scratch git repository, never in this checkout."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # five dvc processes (~2 s each)


def _dvc(repo: Path, *args: str) -> str:
    dvc = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))
    finished = subprocess.run(
        [dvc, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ | {"DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(repo / ".dvc-site")},
    )
    assert finished.returncode == 0, f"dvc {' '.join(args)}: {finished.stderr or finished.stdout}"
    return finished.stdout


def test_dvc_push_and_pull_through_an_s3_compatible_remote(s3_endpoint, s3_bucket, tmp_path, scl_raw_path):
    pytest.importorskip("dvc_s3", reason='needs dvc-s3 (pip install -e ".[test]")')
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _dvc(repo, "init", "-q")
    data = repo / "flights.csv.gz"
    shutil.copy(scl_raw_path, data)
    digest = hashlib.md5(data.read_bytes()).hexdigest()  # noqa: S324 - DVC's own content address
    _dvc(repo, "add", "-q", data.name)
    _dvc(repo, "remote", "add", "-d", "store", f"{s3_bucket}/dvc-cache")
    _dvc(repo, "remote", "modify", "store", "endpointurl", s3_endpoint)
    _dvc(repo, "push", "-q")

    from latam_airlines.io import filesystem

    fs, _ = filesystem(s3_bucket)
    pushed = fs.find(f"{s3_bucket}/dvc-cache")
    assert pushed == [f"{s3_bucket.removeprefix('s3://')}/dvc-cache/files/md5/{digest[:2]}/{digest[2:]}"]

    data.unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    _dvc(repo, "pull", "-q")
    assert data.read_bytes() == scl_raw_path.read_bytes()
