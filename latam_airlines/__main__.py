"""`python -m latam_airlines ...`: the `latam` command."""

import sys

from latam_airlines.cli import main

sys.exit(main())
