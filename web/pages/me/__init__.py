"""Mentor and mentee pages: profile, ranking, the pair, meetings, surveys, concerns, inbox,
guidelines (the `me` blueprint)."""
