"""``python -m docbatch`` runs the ``docbatch`` command."""

from docbatch.cli import run

run()
