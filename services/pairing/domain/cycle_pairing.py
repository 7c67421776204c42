"""A cycle's pairing, the aggregate of the cycle's one stream: its proposal and pairs
(`proposal`) and its mentee-choice rounds (`choice`)."""

from __future__ import annotations

from .choice import MenteeChoice
from .proposal import ProposalAndPairs


class CyclePairing(ProposalAndPairs, MenteeChoice):
    stream_prefix = "pairing"
