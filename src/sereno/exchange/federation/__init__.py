"""Node-to-node federation: the signed envelope two Sereno installations exchange (ADR 0026)."""
