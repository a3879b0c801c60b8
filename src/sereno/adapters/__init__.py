"""Adapters: the edges that talk to the database, the bus, the disk and the video streams."""
