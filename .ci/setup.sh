#!/usr/bin/env bash
# Makes sure what the test suite talks to is here: Debian's Chromium for the
# dashboard test, and the PostgreSQL and MariaDB servers on 127.0.0.1.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Chromium (Debian package) for the dashboard test ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "Starting PostgreSQL ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi

if ! mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
  echo "Starting MariaDB ..."
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 30); do
    mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 && break
    sleep 1
  done
fi

# The fault tests start private servers: PostgreSQL's initdb/pg_ctl (run as
# the postgres user through runuser) and MariaDB's mariadb-install-db/mariadbd.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
  ! command -v mariadb-install-db >/dev/null 2>&1 ||
  ! command -v runuser >/dev/null 2>&1; then
  echo "Installing PostgreSQL and MariaDB server programs for the fault tests ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql mariadb-server util-linux >/dev/null
fi

# A real ClickHouse for the ClickHouse tests and bench: the engine the npm
# package chdb ships (libchdb), run by tests/_clickhouse_server.ts with its
# HTTP listener. Installed once into the npm cache folder below.
CHDB_DIR="${KPI_CHDB_DIR:-${HOME:-/tmp}/.cache/kpi-engine/chdb}"
if [ ! -f "$CHDB_DIR/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so" ]; then
  echo "Installing ClickHouse (npm @chdb/lib-linux-x64-gnu) ..."
  mkdir -p "$CHDB_DIR"
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$CHDB_DIR" \
    @chdb/lib-linux-x64-gnu@26.7.3-stable.1 >/dev/null
fi
