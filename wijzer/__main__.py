"""Command line: ``python -m wijzer demo`` and ``python -m wijzer serve``."""

from __future__ import annotations

from wijzer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
