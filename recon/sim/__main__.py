"""python -m recon.sim {serve,generate} ..."""
import sys

from .cli import main

sys.exit(main())
