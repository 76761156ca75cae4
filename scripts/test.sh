#!/usr/bin/env bash
# Sets up what is missing, then runs every check CI runs: formatting, lints and the test suite.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# qpdf makes the encrypted PDF that the bad-input tests need.
STUDYDESK_EXTRA_APT="qpdf" "$REPO_ROOT/scripts/setup.sh" --with-llm
cd "$REPO_ROOT"
cargo fmt --all --check
cargo clippy --all-targets --release -- -D warnings
cargo test --release --no-fail-fast
