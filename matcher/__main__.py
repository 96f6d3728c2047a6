"""``python -m matcher``: see `matcher.cli`."""

from __future__ import annotations

import sys

from matcher.cli import main as _main


def main() -> None:
    sys.exit(_main())


if __name__ == "__main__":
    main()
