#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster: initdb in a temp dir, a
# unix socket only (no TCP port), an unprivileged user when we are root
# (PostgreSQL refuses to run as root), and the cluster stopped and removed on
# exit, whatever the command's outcome. Exports TRACKABLE_TEST_DB, PGHOST, PGUSER.
#
#   bash .ci/with-postgres.sh make test
set -euo pipefail

find_bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
        echo "$dir"
        return
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
    echo "PostgreSQL not found; installing it with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bindir=$(find_bindir)
fi

root=$(mktemp -d /tmp/trackable-pg.XXXXXX)
data="$root/data"
sock="$root/sock"
mkdir -p "$data" "$sock"
chmod 755 "$root"
chmod 777 "$sock"

as_owner=()
if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$root"
    as_owner=(runuser -u nobody --)
fi

stop() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$root"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
# Tests need no durability; TRACKABLE_PG_DURABLE=1 keeps a production server's
# (every commit flushed to disk), for benchmarks of committed writes.
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ "${TRACKABLE_PG_DURABLE:-0}" = 1 ]; then
    durability=""
fi
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 \
    -o "-k $sock -c listen_addresses='' $durability -c max_connections=100" \
    start >/dev/null || { cat "$root/server.log" >&2; exit 1; }

export TRACKABLE_TEST_DB=postgresql PGHOST="$sock" PGUSER=postgres PGDATABASE=postgres
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') running at $sock" >&2
"$@"
