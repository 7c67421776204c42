"""Event contracts: the schemas of every event a service publishes, shared so readers can upcast.

One module per publishing service. A service writes only its own contract's events.
"""
