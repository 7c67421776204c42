from alembic import context

from services.eventkit.migrations import run_env

run_env(context)
