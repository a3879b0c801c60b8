"""Ingest: open a camera's stream, decode its analytics frames, measure its health, reconnect."""
