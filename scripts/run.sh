#!/usr/bin/env bash
# Sets up what is missing, builds StudyDesk and runs it. Arguments go to the `studydesk` CLI;
# with none, it shows the built-in question bank.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$REPO_ROOT/scripts/setup.sh" --with-llm
cargo build --release --quiet --manifest-path "$REPO_ROOT/Cargo.toml" --bin studydesk
if (($#)); then
  exec "$BIN" "$@"
fi
"$BIN" bank
echo
"$BIN" bank show t01-q001
