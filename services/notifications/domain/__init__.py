"""Notifications' aggregates and rules. Pure Python: no Flask, no SQLAlchemy."""
