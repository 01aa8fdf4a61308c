"""`python -m ecoinbox`: the same as the `ecoinbox` command."""

import sys

from ecoinbox.cli import main

sys.exit(main())
