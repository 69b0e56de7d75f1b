"""The one place that reads and writes: tables, files and folders, locally or through fsspec
URLs (`s3://bucket/key` with s3fs), with atomic swaps (see `atomic`).

- `location`: is a path a URL, which filesystem holds it (S3 endpoint from the environment or
  `storage.endpoint_url` in params.yaml), joining paths.
- `atomic`: input/output checks before work starts, atomic file writes (temp + rename locally,
  one PUT on S3), published folders, stale temporaries.
- `tables`: CSV / CSV.gz / Parquet files and partitioned Parquet folders.
"""

from latam_airlines.io.atomic import (
    BUILDS,
    STALE_TEMPORARY_S,
    atomic_path,
    check_input,
    check_output,
    clean_stale_temporaries,
    published_folder,
    read_bytes,
    write_bytes,
    write_text,
)
from latam_airlines.io.location import exists, filesystem, full_name, is_url, join, one_line, s3_options
from latam_airlines.io.tables import (
    is_csv,
    is_parquet,
    read_table,
    require_interim_columns,
    table_columns,
    write_table,
)

__all__ = [
    "BUILDS",
    "STALE_TEMPORARY_S",
    "atomic_path",
    "check_input",
    "check_output",
    "clean_stale_temporaries",
    "exists",
    "filesystem",
    "full_name",
    "is_csv",
    "is_parquet",
    "is_url",
    "join",
    "one_line",
    "published_folder",
    "read_bytes",
    "read_table",
    "require_interim_columns",
    "s3_options",
    "table_columns",
    "write_bytes",
    "write_table",
    "write_text",
]
