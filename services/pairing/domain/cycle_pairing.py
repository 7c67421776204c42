"""A cycle's pairing, the aggregate of the cycle's one stream: its proposal and pairs
(`proposal`), its mentee-choice rounds (`choice`) and its eligible levels (`level_rules`)."""

from __future__ import annotations

from .choice import MenteeChoice
from .level_rules import CycleLevels
from .proposal import ProposalAndPairs


class CyclePairing(ProposalAndPairs, MenteeChoice, CycleLevels):
    stream_prefix = "pairing"
