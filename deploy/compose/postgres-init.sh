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
