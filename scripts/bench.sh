#!/usr/bin/env bash
# Sets up what is missing, then prints StudyDesk's speed figures (see src/bin/studydesk-bench.rs).
# Arguments go to studydesk-bench, e.g. `bash scripts/bench.sh --synthetic 20000`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$REPO_ROOT/scripts/setup.sh" --desktop
"$REPO_ROOT/scripts/provision.sh" --venv
cd "$REPO_ROOT"
cargo build --release --quiet --workspace
# The embedded-versus-server table needs a server: the one provision.sh --with-qdrant built.
source "$REPO_ROOT/scripts/qdrant-server.sh"
trap stop_qdrant EXIT
if [ -x "$QDRANT_BIN" ]; then
  start_qdrant
else
  echo "bench: no Qdrant server built (scripts/provision.sh --with-qdrant); the table has the embedded engine only" >&2
fi
"$CARGO_TARGET_DIR/release/studydesk-bench" "$@"
