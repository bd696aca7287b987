#!/bin/sh
# Container entrypoint: bring the database schema up to date, then run the command given
# (by default `minsheng serve ...`, see the Dockerfile's CMD) as PID 1.
#
#   MINSHENG_MIGRATE_ON_START=1 (default)  run `minsheng db upgrade` first
#   MINSHENG_MIGRATE_ON_START=0            skip it (e.g. when migrations run as a separate job,
#                                           or when several replicas start at once)
set -eu

case "${MINSHENG_MIGRATE_ON_START:-1}" in
    1 | true | TRUE | yes | on)
        echo "entrypoint: minsheng db upgrade (set MINSHENG_MIGRATE_ON_START=0 to skip)" >&2
        minsheng db upgrade
        ;;
    0 | false | FALSE | no | off | "") ;;
    *)
        echo "entrypoint: MINSHENG_MIGRATE_ON_START must be 1 or 0, not '${MINSHENG_MIGRATE_ON_START}'" >&2
        exit 2
        ;;
esac

exec "$@"
