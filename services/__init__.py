"""Tandem's services and the event kit they share."""
