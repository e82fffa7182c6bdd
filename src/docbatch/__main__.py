"""``python -m docbatch`` runs the ``docbatch`` command."""

import sys

from docbatch.cli import main

sys.exit(main())
