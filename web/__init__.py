"""Tandem web front end: server-rendered pages (Flask, Jinja, htmx) over the services."""
