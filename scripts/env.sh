# Shared settings for the scripts: sourced, not run.
# The build cache lives outside the clone so that a fresh clone (and CI) reuses earlier builds;
# set CARGO_TARGET_DIR to put it elsewhere.
export STUDYDESK_CACHE="${STUDYDESK_CACHE:-$HOME/.cache/studydesk}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$STUDYDESK_CACHE/target}"
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
BIN="$CARGO_TARGET_DIR/release/studydesk"
export BIN
