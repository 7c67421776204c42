"""The `tandem` command: starts the suite, runs one process of a service, or an operator task.

It launches the services and the web; neither imports it.
"""
