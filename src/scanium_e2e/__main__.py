"""`python -m scanium_e2e`: the same command line as `scanium-e2e`."""

from __future__ import annotations

import sys

from scanium_e2e.cli import main

sys.exit(main())
