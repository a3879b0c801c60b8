"""Sereno: shared video-surveillance and joint-response platform."""

__version__ = "0.1.0"
