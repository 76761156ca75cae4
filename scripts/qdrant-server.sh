# A local Qdrant server for the tests and the benchmark: sourced, not run.
#
#   start_qdrant   starts the server built by `scripts/provision.sh --with-qdrant` on 127.0.0.1
#                  only, with its own storage folder, a random API key and free REST and gRPC
#                  ports, waits until it is ready, and exports QDRANT_URL (gRPC, what StudyDesk
#                  talks), QDRANT_REST_URL, QDRANT_API_KEY, QDRANT_BIN, QDRANT_PID and
#                  QDRANT_HOME (its folder)
#   stop_qdrant    stops it and removes its storage
#
# Needs `STUDYDESK_CACHE` (scripts/env.sh) and python3 (to find free ports) and curl.

QDRANT_BIN="${QDRANT_BIN:-$STUDYDESK_CACHE/qdrant/qdrant}"
QDRANT_PID=""
QDRANT_HOME=""

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_qdrant() {
  local http grpc key started
  http="$(free_port)"
  grpc="$(free_port)"
  while [ "$grpc" = "$http" ]; do grpc="$(free_port)"; done
  key="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  QDRANT_HOME="$(mktemp -d "${TMPDIR:-/tmp}/studydesk-qdrant.XXXXXX")"
  started=$SECONDS
  (
    cd "$QDRANT_HOME" &&
      exec env QDRANT__SERVICE__HOST=127.0.0.1 QDRANT__SERVICE__HTTP_PORT="$http" \
        QDRANT__SERVICE__GRPC_PORT="$grpc" QDRANT__SERVICE__API_KEY="$key" \
        QDRANT__STORAGE__STORAGE_PATH="$QDRANT_HOME/storage" \
        QDRANT__STORAGE__SNAPSHOTS_PATH="$QDRANT_HOME/snapshots" \
        QDRANT__TELEMETRY_DISABLED=true QDRANT__LOG_LEVEL=WARN \
        "$QDRANT_BIN"
  ) >"$QDRANT_HOME/qdrant.log" 2>&1 &
  QDRANT_PID=$!
  for _ in $(seq 1 120); do
    if curl -sf -H "api-key: $key" "http://127.0.0.1:$http/readyz" >/dev/null 2>&1; then
      export QDRANT_URL="http://127.0.0.1:$grpc" QDRANT_REST_URL="http://127.0.0.1:$http"
      export QDRANT_API_KEY="$key" QDRANT_BIN QDRANT_PID QDRANT_HOME
      echo "qdrant: server $("$QDRANT_BIN" --version 2>/dev/null) ready at $QDRANT_URL (REST $QDRANT_REST_URL) in $((SECONDS - started)) s"
      return 0
    fi
    if ! kill -0 "$QDRANT_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  cat "$QDRANT_HOME/qdrant.log" >&2
  stop_qdrant
  echo "qdrant: the server at $QDRANT_BIN did not become ready" >&2
  return 1
}

stop_qdrant() {
  if [ -n "$QDRANT_PID" ]; then
    kill "$QDRANT_PID" 2>/dev/null || true
    wait "$QDRANT_PID" 2>/dev/null || true
    QDRANT_PID=""
  fi
  if [ -n "$QDRANT_HOME" ]; then
    rm -rf "$QDRANT_HOME"
    QDRANT_HOME=""
  fi
}
