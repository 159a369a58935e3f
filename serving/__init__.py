"""The HTTP API and the worklist: scoring shared by `claimrisk serve` and `claimrisk score`."""
