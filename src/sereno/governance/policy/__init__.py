"""Attribute-based access policies (Cedar) and the decision point that evaluates them."""
