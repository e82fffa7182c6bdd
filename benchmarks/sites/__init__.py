"""Real generated HTML documentation sites, one per generator (built by ``build.py``)."""
