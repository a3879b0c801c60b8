"""The service layer: use-cases that orchestrate the domain through a unit of work."""
