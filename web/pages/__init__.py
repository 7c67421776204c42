"""The pages: the site's own (site.py), and each role's by area (one blueprint each) and
capability (one module each), which registry.py registers on the app."""
