#!/usr/bin/env bash
# Sets up what is missing, builds StudyDesk and opens it: the desktop window when there is a
# display, otherwise `studydesk serve` (the same app in a browser, URL printed). Arguments go
# to the `studydesk` CLI instead, e.g. `run.sh import ../shared/papers`.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$REPO_ROOT/scripts/setup.sh" --with-llm --desktop
cargo build --release --quiet --manifest-path "$REPO_ROOT/Cargo.toml" --workspace
if (($#)); then
  exec "$BIN" "$@"
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$CARGO_TARGET_DIR/release/studydesk-desktop"
fi
echo "No display here: serving StudyDesk to a browser instead (Ctrl-C stops it)."
exec "$BIN" serve --ui "$REPO_ROOT/ui/dist"
