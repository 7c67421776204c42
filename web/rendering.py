"""Rendering a page or one of its fragments, by what htmx asked for.

The same route serves both: a plain or boosted request gets the whole page, an htmx request
that targets part of the page gets just that block (contact-app style). Pages that show
personal data are never cached.
"""

from __future__ import annotations

from flask import Response, make_response, render_template
from flask_htmx import HTMX
from jinja2_fragments.flask import render_block

htmx = HTMX()


def wants_fragment() -> bool:
    """An htmx request that swaps part of the page (not boosted navigation, not history)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, fragment: str | None = None, status: int = 200, **context) -> Response:
    """The whole page, or only `fragment` (a block of `template`) for an htmx swap."""
    if fragment and wants_fragment():
        body = render_block(template, fragment, **context)
    else:
        body = render_template(template, **context)
    response = private(make_response(body, status))
    response.vary.add("HX-Request")
    return response


def page(template: str, status: int = 200, **context) -> Response:
    """The whole page, whatever htmx asked for (sign-in and password pages)."""
    return private(make_response(render_template(template, **context), status))


def private(response: Response) -> Response:
    """Kept by no cache: the page shows personal data or a one-time link."""
    response.headers["Cache-Control"] = "no-store"
    return response
