"""Feedback's rules, one module per aggregate (relationships, meetings, objectives, concerns,
surveys) and the pure maths over them (health, outcomes). Pure Python: no Flask, no SQLAlchemy.

A "relationship" is what people meet in: a one-to-one pair (mentor and mentee) or a coaching
group (its coach as mentor, its members as mentees). Ids of people are enrollment person ids.
"""
