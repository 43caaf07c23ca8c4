"""Run Inception GUI from a source checkout: ``python main.py [PATH...]``."""

import sys

from inception_gui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
