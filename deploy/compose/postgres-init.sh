#!/bin/bash
# PostgreSQL's entrypoint runs this once, on an empty data volume: one role and one database per
# Tandem service, and one for the web. Each role owns only its database, and PUBLIC may not
# connect to any of them, so a service cannot read another's data even though they share a
# server. Passwords come from the container's environment (deploy/.env); they are passed to psql
# as variables, never spliced into SQL text. On a volume initialised before a database was added
# here, create it by hand (deploy/README.md, "Upgrade").
set -eo pipefail

for service in enrollment pairing feedback notifications web; do
    password_var="${service^^}_DB_PASSWORD"
    password="${!password_var:?${password_var} must be set (see deploy/.env.example)}"
    psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        --set=role="${service}" --set=password="${password}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
    echo "tandem: database and role '${service}' created"
done

# The keyring: people's data keys, outside every event store. Every service connects to it as
# this one role (it holds nothing but wrapped keys and erasure tombstones).
psql --no-psqlrc -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set=password="${KEYRING_DB_PASSWORD:?KEYRING_DB_PASSWORD must be set (see deploy/.env.example)}" <<'SQL'
CREATE ROLE keyring LOGIN PASSWORD :'password';
CREATE DATABASE keyring OWNER keyring;
REVOKE ALL ON DATABASE keyring FROM PUBLIC;
SQL
echo "tandem: keyring database and role created"
