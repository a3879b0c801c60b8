"""Video adapters (PyAV/FFmpeg). Issue 3 adds the ingest workers; this holds what the registry
needs now: one decoded frame from a camera's stream, as a JPEG with privacy masks blanked."""
