import sys

from latam_airlines.datasets.us2001 import main

sys.exit(main())
