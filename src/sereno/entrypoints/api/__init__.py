"""The HTTP edge: REST API under ``/api/v1`` and the web console, one FastAPI application."""
