"""Mentee choice: a round sends each mentee's request to their first ranked mentor with room; a
decline, silence past the deadline or a full mentor moves it down the mentee's list. Pure Python."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.envelope import format_time, parse_time

from .proposal import pair_id_for


class MenteeChoice(Aggregate):
    """The mentee-choice part of a cycle's pairing: the open round and its requests. An accepted
    request creates a pair, so the pairs it counts come from `active_pairs`."""

    def __init__(self, cycle_id: str) -> None:
        super().__init__(cycle_id)
        # The open round (its id, response hours, each mentee's choices) and its requests.
        self.round: dict[str, Any] | None = None
        self.requests: dict[str, dict[str, Any]] = {}

    def active_pairs(self) -> list[dict[str, Any]]:
        raise NotImplementedError  # ProposalAndPairs holds the pairs

    def open_choice_round(
        self,
        round_id: str,
        choices: dict[str, list[str]],
        capacity: dict[str, int],
        now: dt.datetime,
        response_hours: int,
    ) -> None:
        """Send each mentee's request to their first mentor with room.

        `choices`: per mentee, the mentors they ranked that the hard rules allow, best first.
        """
        if self.round is not None and self.pending_requests():
            raise DomainError("A mentee-choice round is still waiting for answers.", "cycle_id")
        if not 1 <= response_hours <= 24 * 30:
            raise DomainError("Mentors answer within 1 hour to 30 days.", "response_hours")
        paired = {p["mentee_id"] for p in self.active_pairs()}
        choices = {m: list(c) for m, c in sorted(choices.items()) if m not in paired}
        self.record(
            "ChoiceRoundOpened", round_id=round_id, cycle_id=self.id,
            response_hours=response_hours, choices=choices,
        )  # fmt: skip
        for mentee_id in choices:
            self._request_next(mentee_id, 0, capacity, now)

    def pending_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests.values() if r["status"] == "pending"]

    def respond(
        self, request_id: str, accept: bool, reason: str, capacity: dict[str, int], now: dt.datetime
    ) -> None:
        request = self.requests.get(request_id)
        if request is None or request["status"] != "pending":
            raise DomainError("This request is not waiting for an answer.", "request_id")
        if parse_time(request["deadline"]) <= now:
            raise DomainError("The time to answer this request has passed.", "request_id")
        outcome = {k: request[k] for k in ("request_id", "round_id", "mentee_id", "mentor_id")}
        if not accept:
            self.record(
                "RequestDeclined", cycle_id=self.id, reason=(reason or "").strip(), **outcome
            )
            self._move_on(request, capacity, now)
            return
        mentor_id = request["mentor_id"]
        if self._load(mentor_id) >= capacity.get(mentor_id, 0):
            raise DomainError("You have no room left for another mentee.", "request_id")
        self.record("RequestAccepted", cycle_id=self.id, **outcome)
        self.record(
            "PairCreated",
            pair_id=pair_id_for(self.id, request["mentee_id"], mentor_id, request["round_id"]),
            cycle_id=self.id, run_id=request["round_id"], mentee_id=request["mentee_id"],
            mentor_id=mentor_id, score=0.0,
        )  # fmt: skip
        if self._load(mentor_id) >= capacity.get(mentor_id, 0):
            # Now full: the mentor's other waiting requests move down their mentees' lists.
            for other in sorted(self.pending_requests(), key=lambda r: r["request_id"]):
                if other["mentor_id"] == mentor_id:
                    self.record(
                        "RequestDeclined", cycle_id=self.id, reason="mentor full",
                        **{k: other[k] for k in ("request_id", "round_id", "mentee_id", "mentor_id")},
                    )  # fmt: skip
                    self._move_on(other, capacity, now)

    def expire_due(self, capacity: dict[str, int], now: dt.datetime) -> int:
        """Requests past their deadline move on to the mentee's next choice."""
        due = sorted(
            (r for r in self.pending_requests() if parse_time(r["deadline"]) <= now),
            key=lambda r: r["request_id"],
        )
        for request in due:
            self.record(
                "RequestExpired", cycle_id=self.id,
                **{k: request[k] for k in ("request_id", "round_id", "mentee_id", "mentor_id")},
            )  # fmt: skip
            self._move_on(request, capacity, now)
        return len(due)

    def _load(self, mentor_id: str) -> int:
        return sum(1 for p in self.active_pairs() if p["mentor_id"] == mentor_id)

    def _move_on(self, request: dict[str, Any], capacity: dict[str, int], now: dt.datetime) -> None:
        self._request_next(request["mentee_id"], request["rank"], capacity, now)

    def _request_next(
        self, mentee_id: str, after_rank: int, capacity: dict[str, int], now: dt.datetime
    ) -> None:
        assert self.round is not None
        choices = self.round["choices"].get(mentee_id, [])
        for rank in range(after_rank + 1, len(choices) + 1):
            mentor_id = choices[rank - 1]
            if self._load(mentor_id) < capacity.get(mentor_id, 0):
                deadline = now + dt.timedelta(hours=self.round["response_hours"])
                self.record(
                    "MentorRequested",
                    request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"request/{self.round['round_id']}/{mentee_id}/{rank}")),
                    round_id=self.round["round_id"], cycle_id=self.id, mentee_id=mentee_id,
                    mentor_id=mentor_id, rank=rank, deadline=format_time(deadline),
                )  # fmt: skip
                return
        reason = (
            "ranked no mentor the rules allow"
            if not choices
            else "every ranked mentor declined, did not answer in time, or was full"
        )
        self.record(
            "MenteeUnmatched", round_id=self.round["round_id"], cycle_id=self.id,
            mentee_id=mentee_id, reason=reason,
        )  # fmt: skip

    # --- folding events ------------------------------------------------------------------------

    def when_choice_round_opened(self, p: dict[str, Any]) -> None:
        self.round = {
            "round_id": p["round_id"],
            "response_hours": p["response_hours"],
            "choices": p["choices"],
        }

    def when_mentor_requested(self, p: dict[str, Any]) -> None:
        self.requests[p["request_id"]] = {**p, "status": "pending"}

    def when_request_accepted(self, p: dict[str, Any]) -> None:
        self.requests[p["request_id"]]["status"] = "accepted"

    def when_request_declined(self, p: dict[str, Any]) -> None:
        self.requests[p["request_id"]]["status"] = "declined"

    def when_request_expired(self, p: dict[str, Any]) -> None:
        self.requests[p["request_id"]]["status"] = "expired"
