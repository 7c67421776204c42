"""Routes declare their permission with `guard`; the policy decides (see `policy.py`).

`@guard(permission, resolve)` goes directly under `@blp.route`, so it checks before the request
body is even read, with the resource resolved from the path. Routes whose resource depends on the validated body declare
`guard(permission)` and call `authorize(resource)` themselves; a route that returns without
having been authorized is a programming error and answers 500 rather than data.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import abort, g

from .aggregate import NotFound
from .context import principal
from .policy import POLICY, Resource, Who, allowed_as

T = TypeVar("T")
PERMISSION_DOC = "x-permission"
ROWS_DOC = "x-permission-rows"


def guard(permission: str, resolve: Callable[..., Resource] | None = None, rows: str | None = None):
    """Declare the route's permission; with `resolve`, check it before the view runs.

    `resolve` receives the path parameters and returns the resource from its own records.
    `rows` names the permission each row of a list answer is filtered by (see `visible`).
    """
    rule = POLICY[permission]  # an unknown permission fails at import, not at request time
    if rows is not None:
        POLICY[rows]
    names = tuple(inspect.signature(resolve).parameters) if resolve else ()

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            g.permission = rule.permission
            g.authorized_as = None
            if resolve is not None:
                authorize(resolve(**{name: kwargs[name] for name in names}))
            result = view(*args, **kwargs)
            if g.authorized_as is None:
                raise RuntimeError(f"{view.__name__} returned without checking {permission}")
            return result

        doc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(doc.get("manual_doc", {}))
        manual[PERMISSION_DOC] = rule.permission
        if rows is not None:
            manual[ROWS_DOC] = rows
        doc["manual_doc"] = manual
        wrapper._apidoc = doc
        return wrapper

    return decorator


def authorize(resource: Resource) -> Who:
    """The capacity the caller acts in under the route's permission; 403 (or 404 for concealed
    resources) if none."""
    rule = POLICY[g.permission]
    who = allowed_as(principal(), rule.permission, resource)
    if who is None:
        if rule.conceal:
            raise NotFound(f"No such {rule.resource}.")
        abort(403, description=f"You may not {rule.summary} here.")
    g.authorized_as = who
    return who


def visible(permission: str, rows: Iterable[T], resource_of: Callable[[T], Resource]) -> list[T]:
    """The rows the caller may see under `permission` (for lists across programs or pairs)."""
    who = principal()
    if g.get("authorized_as") is None:
        g.authorized_as = Who.ANYONE  # an open list: each row is checked instead
    return [r for r in rows if allowed_as(who, permission, resource_of(r)) is not None]


def consortium() -> Resource:
    """The consortium as a whole: only consortium-wide grants cover it."""
    return Resource()


def capacity() -> Who:
    """The capacity the current request was authorized in."""
    return g.authorized_as


def people(*ids: Any) -> frozenset[str]:
    return frozenset(str(i) for i in ids if i)
