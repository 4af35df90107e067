#!/usr/bin/env bash
# Makes sure Redis answers on 127.0.0.1:6379 and PostgreSQL on
# 127.0.0.1:5432 with trust auth for user `postgres`, installing and
# starting them from Debian's packages if needed.
set -euo pipefail

# Debian's packages and the cluster's configuration need root.
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_install() {
  echo "installing $* from Debian's packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# The tests also start redis-server processes of their own (a Redis killed
# under a replica), so the binary must be here even when a Redis answers.
command -v redis-server >/dev/null || apt_install redis-server
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if command -v redis-cli >/dev/null && redis_up; then
  echo "Redis is running"
else
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

command -v pg_ctlcluster >/dev/null || apt_install postgresql

version=$(ls /etc/postgresql | sort -V | tail -1)
conf=/etc/postgresql/$version/main
# Local test server: trust connections from loopback.
# pg_hba.conf is readable by its owner only: read it as root too.
if ! $SUDO grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
fi
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
for _ in $(seq 1 30); do
  pg_up && { echo "PostgreSQL started"; exit 0; }
  sleep 1
done
echo "PostgreSQL did not start" >&2
exit 1
