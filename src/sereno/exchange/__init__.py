"""Exchange with other agencies and systems: CAP 1.2 alerts (issue 5)."""
