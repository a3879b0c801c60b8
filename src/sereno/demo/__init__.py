"""The demo city: Guayaquil with Segura EP and the National Police, for ``make demo`` and tests."""
