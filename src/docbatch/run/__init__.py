"""One ingest call, start to end: preparing the run (inventory, plan, checkpoint read
back), where slices run (executors, starting workers, the supervisor that survives dead
ones), the runner that commits slice by slice, and closing the call (outcomes, reports,
the result)."""
