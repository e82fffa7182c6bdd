"""What survives a run: checkpoint parts and the run manifest, atomic writes, the
reports of each run, the writer lock, checks of the state folder, and verify (the store
against the disk and the last run)."""
