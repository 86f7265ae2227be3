#!/usr/bin/env bash
# Makes sure the Postgres tests can start their own server: the binaries
# initdb and pg_ctl (from /usr/lib/postgresql/*/bin) and, when running as
# root, the user `postgres` to run them as. Installs Debian's postgresql
# package when they are missing (as the replica test installs nginx).
# Nothing to do when DS24_TEST_DATABASE_URL names a server.
set -euo pipefail
if [ -n "${DS24_TEST_DATABASE_URL:-}" ]; then
  echo "postgres: using DS24_TEST_DATABASE_URL"
  exit 0
fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgres: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
else
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "postgres: initdb missing; install postgresql or set DS24_TEST_DATABASE_URL" >&2
    exit 1
  fi
  echo "postgres: installing the postgresql package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home postgres
fi
