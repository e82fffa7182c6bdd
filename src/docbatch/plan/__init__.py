"""What to do: the inventory of a tree (walk, patterns, hidden files, links), change
detection against the store (planning, content hashes, parser fingerprints) and git's
facts (ignored files, changes since a revision, provenance)."""
