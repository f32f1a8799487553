"""``python -m sim.cli``: the ``taresim`` command."""
import sys

from sim.cli import main

sys.exit(main())
