"""``python -m mlp_gui`` starts MLP Studio."""
import sys

from .app import main

sys.exit(main())
