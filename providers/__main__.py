"""``python -m providers``: see `providers.cli`."""

from __future__ import annotations

from providers.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
