"""Feedback: meetings, goals, reviews, confidential concerns and program health."""
