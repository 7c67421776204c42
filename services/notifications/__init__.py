"""Notifications: tells people what they need to know, once, by email and in the app."""
