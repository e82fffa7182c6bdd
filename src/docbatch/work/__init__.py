"""What a worker process imports, and nothing more: reading one slice of files, decoding,
parsing (through ``docbatch.formats``), chunking into passages, the outcome rows, and the
per-file time limit and heartbeat."""
