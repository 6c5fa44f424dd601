"""Entry point for `python -m evoki_sql`."""

import sys

from evoki_sql.cli import main

sys.exit(main())
