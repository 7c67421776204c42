"""Pairing: the candidate pool of each cycle and the pairings made from it."""
