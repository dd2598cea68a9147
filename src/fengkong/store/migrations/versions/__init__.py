"""Migration scripts, one per revision, in order: 0001_initial, 0002_..."""
