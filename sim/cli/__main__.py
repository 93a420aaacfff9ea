"""``python -m sim.cli`` runs the ``gxsim`` command."""

import sys

from sim.cli import main

sys.exit(main())
