#!/usr/bin/env bash
# Sets up what is missing, then runs every check CI runs: formatting, lints, the Rust test
# suite, the UI's checks and unit tests, and the end-to-end runs of the app in a real browser
# (Chromium, through `studydesk serve`) and in the real desktop window (tauri-driver under Xvfb).
set -euo pipefail
source "$(dirname "$0")/env.sh"
# Processes of StudyDesk's kinds already running (another session's), so that only the ones the
# tests start are checked at the end.
ours() { ps -eo pid=,args= | grep -E '(llama-server|/qdrant|/studydesk[a-z-]*)( |$)' | grep -v -E 'grep ' || true; }
before="$(ours)"
# qpdf makes the encrypted PDF of the bad-input tests; chromium, xvfb, webkit2gtk-driver drive
# the UI; gnome-keyring and dbus provide an OS keyring for the API-key tests, and secret-tool
# (libsecret-tools) reads it independently of StudyDesk.
STUDYDESK_EXTRA_APT="qpdf chromium xvfb xauth webkit2gtk-driver gnome-keyring dbus-x11 libsecret-tools curl" \
  "$REPO_ROOT/scripts/setup.sh" --with-llm --desktop
cd "$REPO_ROOT"
(cd ui && npm run --silent check && npm test --silent)
cargo fmt --all --check
# --workspace everywhere: one feature set, so the core is compiled once for the CLI, the tests
# and the desktop app.
cargo clippy --workspace --all-targets --release -- -D warnings
# The store contract and the server journeys run against a real Qdrant server whenever one was
# built (once, 30-50 min: scripts/provision.sh --with-qdrant); a fresh machine has none.
source "$REPO_ROOT/scripts/qdrant-server.sh"
trap stop_qdrant EXIT
if [ -x "$QDRANT_BIN" ]; then
  start_qdrant
else
  echo "test: ==== Qdrant SERVER TESTS SKIPPED: no server at $QDRANT_BIN; build it once with" >&2
  echo "test: ==== scripts/provision.sh --with-qdrant (30-50 min on 2 cores), then run this again" >&2
fi
cargo test --workspace --release --no-fail-fast
stop_qdrant
# The tests regenerate the UI's shared types from Rust; the committed ones must match.
if [ -n "$(git status --porcelain -- ui/src/bindings)" ]; then
  git status --short -- ui/src/bindings
  echo "test: ui/src/bindings is out of date with the Rust types; commit the regenerated files" >&2
  exit 1
fi
"$REPO_ROOT/scripts/test-ui.sh"
# Nothing the tests started may outlive them: a model server, a Qdrant server, the app.
leftover="$(ours | grep -v -x -F -f <(printf '%s\n' "$before") || true)"
if [ -n "$leftover" ]; then
  echo "test: processes outlived the tests:" >&2
  echo "$leftover" >&2
  exit 1
fi
