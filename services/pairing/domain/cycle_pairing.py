"""A cycle's pairing, the aggregate of the cycle's one stream: its proposal and pairs
(`proposal`), its mentee-choice rounds (`choice`) and its eligible levels (`level_rules`)."""

from __future__ import annotations

from .choice import MenteeChoice
from .level_rules import CycleLevels
from .proposal import ProposalAndPairs


class CyclePairing(ProposalAndPairs, MenteeChoice, CycleLevels):
    stream_prefix = "pairing"
    # Each run's draft holds every pair with its score, and publishing adds an event per pair:
    # a cycle's commands start from the state saved after the last of these.
    snapshot_after = frozenset({"ProposalGenerated", "PairingPublished"})
