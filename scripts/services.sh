#!/usr/bin/env bash
# Makes sure Redis answers on 127.0.0.1:6379 and PostgreSQL on
# 127.0.0.1:5432 with trust auth for user `postgres`, installing and
# starting them from Debian's packages if needed.
set -euo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if command -v redis-cli >/dev/null && redis_up; then
  echo "Redis is running"
else
  if ! command -v redis-server >/dev/null; then
    echo "installing Redis from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 30); do redis_up && break; sleep 0.2; done
  redis_up || { echo "Redis did not start" >&2; exit 1; }
  echo "Redis started"
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && pg_up; then
  echo "PostgreSQL is running"
  exit 0
fi

if ! command -v pg_ctlcluster >/dev/null; then
  echo "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /etc/postgresql | sort -V | tail -1)
conf=/etc/postgresql/$version/main
# Local test server: trust connections from loopback.
if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
for _ in $(seq 1 30); do
  pg_up && { echo "PostgreSQL started"; exit 0; }
  sleep 1
done
echo "PostgreSQL did not start" >&2
exit 1
