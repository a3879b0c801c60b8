"""OASIS Common Alerting Protocol 1.2."""
