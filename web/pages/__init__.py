"""The pages of each role, by area (one blueprint each) and capability (one module each);
registry.py registers them on the app."""
