"""Row-level security on PostgreSQL: the database's own check that a request sees only its
institutions' rows, behind the service layer's checks.

Every transaction starts by telling PostgreSQL who is asking (`app.institutions`, `app.user_id`,
transaction-local); the policies the migrations create (see `protect`) compare each row against
them. The runtime switches to a role that neither owns the tables nor is a superuser, as both
would bypass the policies. On SQLite all of this is a no-op and the service layer checks alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import os
from collections.abc import Iterator, Mapping, Sequence

import sqlalchemy as sa

from .auth import Principal

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class AccessScope:
    """Whose rows a transaction may see: `institutions` None means every institution."""

    user_id: str
    institutions: frozenset[str] | None

    @property
    def unrestricted(self) -> bool:
        return self.institutions is None


# Workers, relays, consumers, migrations and commands see everything; the API narrows each request.
UNRESTRICTED = AccessScope("system", None)
DENY = AccessScope("", frozenset())

_scope: contextvars.ContextVar[AccessScope] = contextvars.ContextVar(
    "tandem_access_scope", default=UNRESTRICTED
)


def current() -> AccessScope:
    return _scope.get()


def set_scope(scope: AccessScope) -> None:
    """The scope of transactions this thread (or task) begins from now on."""
    _scope.set(scope)


def reset_scope() -> None:
    """Back to the process default, so a request's scope never outlives the request."""
    _scope.set(UNRESTRICTED)


@contextlib.contextmanager
def scoped(scope: AccessScope) -> Iterator[AccessScope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def scope_for(principal: Principal) -> AccessScope:
    """A principal sees the institutions of its grants, or all if one grant is consortium-wide."""
    institutions = {g.institution_id for g in principal.grants}
    if None in institutions:
        return AccessScope(principal.user_id, None)
    return AccessScope(principal.user_id, frozenset(i for i in institutions if i))


# --- the engine side ----------------------------------------------------------------------------

_SET = "SELECT set_config('app.institutions', %s, true), set_config('app.user_id', %s, true)"
_INFO_KEY = "tandem.rls"
_WIDE_KEY = "tandem.rls.unrestricted"


def _settings(scope: AccessScope) -> tuple[str, str]:
    if scope.institutions is None:
        return "*", scope.user_id
    return ",".join(sorted(scope.institutions)), scope.user_id


def install(engine: sa.Engine) -> None:
    """Set the current scope at the start of every transaction (explicit, autobegun, read-only)."""
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        settings = _settings(current())
        connection.info[_INFO_KEY] = settings
        connection.info[_WIDE_KEY] = False
        connection.exec_driver_sql(_SET, settings)


@contextlib.contextmanager
def unrestricted(conn: sa.Connection) -> Iterator[None]:
    """Within the caller's transaction, see every institution for a moment, then narrow again.

    For the event store's own bookkeeping (a stream's head must count every event of the stream,
    and a cross-institution pair's stream mixes institutions; a command is authorised against the
    aggregate it loads, not by what the database hides), and for the few checks that span the
    consortium (an email's uniqueness, who coordinates a cycle).
    """
    settings = _transaction_settings(conn)
    if settings is None or settings[0] == "*" or conn.info.get(_WIDE_KEY):
        yield  # already sees everything (or not PostgreSQL)
        return
    conn.exec_driver_sql(_SET, ("*", settings[1]))
    conn.info[_WIDE_KEY] = True
    try:
        yield
    except BaseException:
        # An aborted transaction refuses every statement; it is rolled back, scope and all.
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql(_SET, settings)
        raise
    else:
        conn.exec_driver_sql(_SET, settings)
    finally:
        conn.info[_WIDE_KEY] = False


def _transaction_settings(conn: sa.Connection) -> tuple[str, str] | None:
    """What the connection's transaction was scoped to (beginning it if need be); None off
    PostgreSQL."""
    if conn.dialect.name != "postgresql":
        return None
    if not conn.in_transaction():
        conn.begin()  # the begin hook records the scope
    return conn.info.get(_INFO_KEY)


@contextlib.contextmanager
def routing(runtime) -> Iterator[sa.Connection]:
    """A read-only connection of `runtime` that sees every institution, for resolving which
    institution, program and people a resource belongs to: the policy decides on those facts
    (403, or 404 where it conceals), and row-level security then guards what the view reads."""
    with scoped(UNRESTRICTED), runtime.reading() as conn:
        yield conn


def app_role() -> str:
    """The role services run as: TANDEM_DB_APP_ROLE, `tandem_app` by default, empty for none."""
    role = os.environ.get("TANDEM_DB_APP_ROLE", "tandem_app").strip()
    if '"' in role or "'" in role:  # it is spliced into SET ROLE and GRANT
        raise ValueError(f"TANDEM_DB_APP_ROLE {role!r}: quotes are not allowed in a role name")
    return role


def use_app_role(engine: sa.Engine, role: str | None = None) -> None:
    """Every new connection switches to the app role, when the migrations made it available."""
    role = app_role() if role is None else role
    if engine.dialect.name != "postgresql" or not role:
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(_ROLE_READY, (role,))
            ready, user, bypasses = cursor.fetchone()
            if ready:
                cursor.execute(f'SET ROLE "{role}"')
            elif bypasses:
                log.warning(
                    "role %s is missing or not granted here (run the migrations): the service "
                    "runs as %s, who bypasses row-level security",
                    role,
                    user,
                )
        dbapi_connection.commit()  # SET ROLE is undone by a rollback until committed


# The role exists, this user may switch to it, and the migrations granted it this database's
# tables (roles are cluster-wide: it may exist while this database never granted it anything).
_ROLE_READY = """
SELECT CASE WHEN r.oid IS NULL OR to_regclass('public.events') IS NULL THEN false
            ELSE pg_has_role(current_user, r.oid, 'MEMBER')
                 AND has_table_privilege(r.oid, 'public.events', 'SELECT') END,
       current_user, me.rolsuper OR me.rolbypassrls
FROM pg_roles me LEFT JOIN pg_roles r ON r.rolname = %s
WHERE me.rolname = current_user
"""


# --- the migrations' side -----------------------------------------------------------------------
#
# Policy expressions use three functions each database gets: tandem_rls_all() (the transaction may
# see everything), tandem_rls_institution(id) (that institution is in scope) and tandem_rls_user()
# (the user asking). With nothing set, as on a connection the runtime did not prepare, they deny.

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION tandem_rls_all() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('app.institutions', true), '') = '*' $$;
CREATE OR REPLACE FUNCTION tandem_rls_institution(institution text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT tandem_rls_all() OR institution = ANY (
    string_to_array(nullif(current_setting('app.institutions', true), ''), ','))
$$;
CREATE OR REPLACE FUNCTION tandem_rls_user() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.user_id', true), '') $$;
"""

# Roles are cluster-wide and several databases (one per service, or per test) may migrate at
# once: create and join only if need be, and take a concurrent migration's duplicate as success.
_CREATE_ROLE = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
    GRANT "{role}" TO current_user;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
"""


def protect(
    op,
    policies: Mapping[str, str],
    worker_only: Sequence[str] = (),
    append_only: Sequence[str] = (),
) -> None:
    """Create the app role and its grants, and a forced policy per table (PostgreSQL only).

    `policies` maps a table to the condition a row must meet to be seen or written; tables in
    `worker_only` are seen only by unrestricted scopes (workers, relays, commands), and so are
    those in `append_only`, to which any scope may add rows (a request leaves them for the worker).
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    grant_app_role(op.get_bind())
    op.execute(_FUNCTIONS)
    # Unrestricted scopes pass first: projections write rows before the rows they refer to arrive.
    rules = {t: f"tandem_rls_all() OR ({c})" for t, c in policies.items()}
    rules.update(dict.fromkeys([*worker_only, *append_only], "tandem_rls_all()"))
    for table in append_only:
        op.execute(f"DROP POLICY IF EXISTS tandem_append ON {table}")
        op.execute(f"CREATE POLICY tandem_append ON {table} FOR INSERT WITH CHECK (true)")
    for table, condition in rules.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS tandem_scope ON {table}")
        op.execute(
            f"CREATE POLICY tandem_scope ON {table} USING ({condition}) WITH CHECK ({condition})"
        )


def unprotect(op, tables: Sequence[str]) -> None:
    """Undo `protect` on these tables (the role stays: other databases may use it)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tandem_scope ON {table}")
        op.execute(f"DROP POLICY IF EXISTS tandem_append ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def refresh_app_role(bind: sa.Connection) -> None:
    """After every migrate: grant the app role this database's tables again, so a role created
    after the policies were (by a DBA, say) takes effect without a new revision."""
    if (
        bind.dialect.name == "postgresql"
        and bind.exec_driver_sql("SELECT to_regprocedure('tandem_rls_all()') IS NOT NULL").scalar()
    ):
        grant_app_role(bind)


def grant_app_role(bind: sa.Connection) -> None:
    """Create the app role if missing and allowed, join it, and grant it the tables."""
    role = app_role()
    if not role:
        return
    exists = bind.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).scalar()
    member = (
        exists
        and bind.exec_driver_sql("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).scalar()
    )
    if not member:
        may = bind.exec_driver_sql(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).scalar()
        if not may:
            # The policies are forced, so they hold for this owner too (unless it is a superuser).
            log.warning(
                "cannot create or join role %s (no CREATEROLE): the services will run as %s; "
                "pre-create the role and grant it to this user to separate the two",
                role,
                bind.exec_driver_sql("SELECT current_user").scalar(),
            )
            return
        bind.exec_driver_sql(_CREATE_ROLE.format(role=role))
    bind.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    bind.exec_driver_sql(
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
    )
    bind.exec_driver_sql(
        f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"'
    )
    # Tables later migrations add get the same grants; Alembic's own table stays the owner's.
    bind.exec_driver_sql(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"'
    )
    bind.exec_driver_sql(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{role}"'
    )
    bind.exec_driver_sql(f'REVOKE ALL ON alembic_version FROM "{role}"')
