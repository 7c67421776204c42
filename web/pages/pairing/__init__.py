"""The coordinator's pairing page of a cycle and its forms (the `pairing` blueprint)."""
