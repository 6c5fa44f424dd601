"""Entry point for `python -m evoki_sql`."""

import sys

from evoki_sql.cli import main

if __name__ == "__main__":
    sys.exit(main())
