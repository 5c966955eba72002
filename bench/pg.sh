#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests and the benchmark (issue 15).
#
#   eval "$(bench/pg.sh start)"   # prints the two exports below; the cluster runs until `stop`
#   .venv/bin/pytest              # the PostgreSQL tests run when UNSTUCK_TEST_POSTGRES_URL is set
#   bench/pg.sh stop              # stops it and deletes its folder (UNSTUCK_TEST_POSTGRES_DIR)
#
# Uses Debian's packages (`apt-get install postgresql`); nothing is downloaded here. initdb refuses to run as
# root, so as root the cluster runs as the `postgres` user. Trust authentication, on 127.0.0.1 only, on a
# free port, with durability off (fsync): it holds nothing but test data.
set -euo pipefail

bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    # Debian keeps the server binaries out of PATH; take the newest installed major version.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    bin=$(bindir) || { echo "bench/pg.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 3; }
    dir=$(mktemp -d -t unstuck-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    # Only TCP on 127.0.0.1 (trust) and the cluster's own socket folder; nothing else may connect.
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | as_owner tee "$dir/data/pg_hba.conf" >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    echo "export UNSTUCK_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export UNSTUCK_TEST_POSTGRES_DIR=$dir"
    ;;
stop)
    dir=${2:-${UNSTUCK_TEST_POSTGRES_DIR:-}}
    [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "bench/pg.sh stop: no cluster folder given" >&2; exit 2; }
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: eval \"\$(bench/pg.sh start)\"; bench/pg.sh stop [DIR]" >&2
    exit 2
    ;;
esac
