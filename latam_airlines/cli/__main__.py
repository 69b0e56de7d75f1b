"""`python -m latam_airlines.cli ...`: the `latam` command (what `latam stress` starts servers with)."""

import sys

from latam_airlines.cli import main

sys.exit(main())
