"""Reading and writing the import format: CSV (both dialects), XLSX and JSON.

`read_tables` only loads raw cells; `providers.validate` checks and types
them.  `write_template` makes the downloadable XLSX template and `export`
writes tables to XLSX, CSV or JSON with formula injection neutralised.
"""

from providers.io.export import (
    export_csv,
    export_json,
    export_tables,
    export_xlsx,
    is_neutralised,
    safe_cell,
    unneutralise,
)
from providers.io.read import (
    MAX_FILE_BYTES,
    RawTable,
    data_files,
    read_bytes,
    read_path,
    read_tables,
)
from providers.io.template import write_template

__all__ = [
    "MAX_FILE_BYTES",
    "RawTable",
    "data_files",
    "export_csv",
    "export_json",
    "export_tables",
    "export_xlsx",
    "is_neutralised",
    "read_bytes",
    "read_path",
    "read_tables",
    "safe_cell",
    "unneutralise",
    "write_template",
]
