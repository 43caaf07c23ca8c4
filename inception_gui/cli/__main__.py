"""``python -m inception_gui.cli``: the same as the ``inception-gui`` command (torchrun uses it)."""

import sys

from inception_gui.cli.main import main

sys.exit(main())
