"""``python -m mlp_engine``: the same as the ``mlp-engine`` command."""
import sys

from .cli import main

sys.exit(main())
