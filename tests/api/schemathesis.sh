#!/usr/bin/env bash
# The HTTP API against its own OpenAPI document: schemathesis (PyPI)
# generates requests for every operation from /openapi.json and checks that
# no answer is a 5xx, every status and body is one the document declares,
# and every content type matches. The service runs as deployed: a database
# with an admin token, the Movidesk stand-in as its helpdesk (so the push
# routes answer as they would in production, not 503).
# Run: cargo build --workspace --examples && tests/api/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/debug/roteiro
STANDIN=target/debug/examples/movidesk_standin
VENV=target/schemathesis-venv
test -x "$BIN" && test -x "$STANDIN"

if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ROTEIRO_MOVIDESK_TOKEN=tok-schemathesis "$STANDIN" 0 > "$work/standin" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/standin" ] && break; sleep 0.1; done
helpdesk=$(head -1 "$work/standin")

token=$("$BIN" token create --role admin --name schemathesis --database "$work/roteiro.db" 2>/dev/null)
ROTEIRO_MOVIDESK_URL="$helpdesk" ROTEIRO_MOVIDESK_TOKEN=tok-schemathesis ROTEIRO_MOVIDESK_AGENT=agente \
  "$BIN" serve --addr 127.0.0.1:0 --policies policies --database "$work/roteiro.db" \
  --limit-per-minute 1000000 2> "$work/serve" &
pids+=($!)
addr=""
for _ in $(seq 100); do
  addr=$(grep -o 'http://[0-9.:]*' "$work/serve" | head -1 || true)
  [ -n "$addr" ] && break
  sleep 0.1
done
test -n "$addr" || { cat "$work/serve"; exit 1; }

# Bounded: 15 examples an operation (about 3,000 requests, some 20 s).
"$VENV/bin/st" run "$addr/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --max-examples 15 --request-timeout 10 --seed 1
