"""Background workers: long-running jobs that feed the platform (stream health now; the video
ingest and analytics workers of issue 3 join here)."""
