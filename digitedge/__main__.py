"""`python -m digitedge` is the same as the `digitedge` command."""

import sys

from digitedge.cli import main

sys.exit(main())
