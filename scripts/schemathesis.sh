#!/usr/bin/env bash
# Runs schemathesis (pinned, from PyPI) against a running origin and the
# committed OpenAPI document: every operation, generated and edge-case
# inputs, with the checks "no server error", "responses match the
# documented schemas", "statuses are documented", "content types match".
# Business-rule rejections of schema-valid input are expected and not
# checked. Fails (non-zero) on any violation.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV="${HOME}/.cache/clausum/schemathesis-${VERSION}"
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==${VERSION}"
fi

BIN="${CARGO_TARGET_DIR:-target}/debug/clausum-origin"
# scripts/test.sh has just built it (CLAUSUM_ORIGIN_BUILT); alone, build it.
[ -n "${CLAUSUM_ORIGIN_BUILT:-}" ] && [ -x "$BIN" ] || cargo build --locked -q -p clausum-origin --bin clausum-origin
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DB="sqlite://$WORK/st.db"
"$BIN" init --org "Schemathesis" --json --database-url "$DB" > "$WORK/creds.json"
CLAUSUM_DATABASE_URL="$DB" CLAUSUM_LISTEN="127.0.0.1:$PORT" CLAUSUM_NO_BOOTSTRAP=true \
  CLAUSUM_WEBHOOK_WORKER=false CLAUSUM_EMAIL_WORKER=false "$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 50); do curl -sf "$BASE/api/v1/health" >/dev/null && break; sleep 0.2; done
if ! curl -sf "$BASE/api/v1/health" >/dev/null; then
  echo "the origin did not start; its log:" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi

field() { python3 -c "import json,sys; d=json.load(open('$WORK/creds.json')); print(eval('d' + sys.argv[1]))" "$1"; }
SECRET=$(field "['keys']['secret']")
INGEST=$(field "['keys']['ingest']")
TOKEN=$(curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\": \"$(field "['admin_email']")\", \"password\": \"$(field "['admin_password']")\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

CHECKS=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
run() {
  "$VENV/bin/st" run openapi/openapi.json --url "$BASE" --seed 20261121 --max-examples "$1" \
    --checks "$CHECKS" --no-color "${@:2}"
}
echo "== Partner API (secret key)"
run 40 -H "Authorization: Bearer $SECRET" --include-tag Risk --include-tag Fraud
echo "== event ingestion (ingest key)"
run 20 -H "Authorization: Bearer $INGEST" --include-tag Events
# The management API allows 600 requests a minute per user: keep under it.
echo "== management API (dashboard token)"
run 8 -H "Authorization: Bearer $TOKEN" --exclude-tag Risk --exclude-tag Fraud --exclude-tag Events
