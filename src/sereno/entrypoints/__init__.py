"""Entry points: the HTTP API and console, the command line, and (later) the video workers."""
