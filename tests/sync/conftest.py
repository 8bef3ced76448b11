"""The live-sync tests: the sync package against the module's real local server."""
