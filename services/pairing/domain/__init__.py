"""Pairing's rules, pure Python: the cycle's pairing aggregate and how a run becomes a proposal."""
