"""Evaluating a camera's rules on its tracked objects."""
