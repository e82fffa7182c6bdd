"""One ingest call, start to end (``ingest``): its checked arguments (``request``),
preparing the run (inventory, the site template of HTML pages, plan, checkpoint read
back: ``preparation``, ``templates``, ``kept`` for a call that continues a run), where
slices run (``execution``, ``dask_cluster``, ``spawning``, and the ``supervisor`` that
survives dead workers), the ``runner`` that commits slice by slice, and closing the call
(``closing``: outcomes, reports, the result)."""
