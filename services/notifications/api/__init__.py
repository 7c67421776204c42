"""Notifications' HTTP API (OpenAPI from the marshmallow schemas in `schemas`)."""

from __future__ import annotations


def blueprints():
    from .account_links import blp as account_links
    from .contacts import blp as contacts
    from .inbox import blp as inbox
    from .invitations import blp as invitations
    from .mail import blp as mail
    from .preferences import blp as preferences

    return [inbox, preferences, mail, contacts, account_links, invitations]
