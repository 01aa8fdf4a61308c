"""`python -m ecoinbox`: the same as the `ecoinbox` command."""

import sys

from ecoinbox.quick_reads import main

sys.exit(main())
