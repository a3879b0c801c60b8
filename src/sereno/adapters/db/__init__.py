"""SQLAlchemy 2 persistence: tables, imperative mapping of the domain classes, migrations."""
