"""The web console: server-rendered pages (Jinja2) with a little JavaScript for the map."""
