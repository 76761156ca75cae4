#!/usr/bin/env bash
# The app end to end, as a user sees it, with real engines: the browser UI in headless Chromium
# against `studydesk serve` (import a paper, ask, open the cited page, a quiz round…), then the
# real Tauri window through tauri-driver and WebKitWebDriver under Xvfb. Screenshots of every
# screen go to target/screenshots/ (test artefacts, not committed). Expects the workspace built
# (scripts/test.sh does it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
SHOTS="$REPO_ROOT/target/screenshots"
rm -rf "$SHOTS" && mkdir -p "$SHOTS/browser" "$SHOTS/desktop"
cargo build --release --workspace --quiet
WORK="$(mktemp -d)"
pids=()
cleanup() {
  # Stop the server (SIGTERM: it shuts down cleanly, with its model) before removing its data.
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK" || true
}
trap cleanup EXIT

echo "test-ui: browser (Chromium) against studydesk serve"
STUDYDESK_DATA_DIR="$WORK/browser" "$BIN" serve --ui ui/dist >"$WORK/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do grep -q "serving on" "$WORK/serve.log" && break; kill -0 "${pids[-1]}" 2>/dev/null || break; sleep 0.5; done
url="$(grep -o 'http://127.0.0.1:[^ ]*' "$WORK/serve.log" | head -1)"
[ -n "$url" ] || { cat "$WORK/serve.log"; echo "test-ui: serve did not start" >&2; exit 1; }
STUDYDESK_URL="$url" STUDYDESK_PAPER="$REPO_ROOT/../shared/papers/layer-normalization-1607.06450.pdf" \
  STUDYDESK_SCAN="$REPO_ROOT/../shared/papers/scanned-image-only-rag-p1-2.pdf" \
  SCREENSHOT_DIR="$SHOTS/browser" node ui/tests/e2e.mjs

echo "test-ui: desktop window (tauri-driver + WebKitWebDriver under Xvfb)"
TOOLS="$STUDYDESK_CACHE/tools"
if [ ! -x "$TOOLS/bin/tauri-driver" ]; then
  echo "test-ui: installing tauri-driver from crates.io (once, about 3 minutes)"
  CARGO_TARGET_DIR="$STUDYDESK_CACHE/target-tools" cargo install tauri-driver --locked --quiet --root "$TOOLS"
fi
STUDYDESK_DATA_DIR="$WORK/desktop" xvfb-run -a -s "-screen 0 1440x900x24" bash -c '
  "$0" --port 4444 --native-driver /usr/bin/WebKitWebDriver >"$1/tauri-driver.log" 2>&1 &
  driver=$!
  trap "kill $driver 2>/dev/null" EXIT
  ready=0
  for _ in $(seq 1 60); do curl -s http://127.0.0.1:4444/status >/dev/null && { ready=1; break; }; sleep 0.5; done
  if [ "$ready" != 1 ]; then
    cat "$1/tauri-driver.log" >&2
    echo "test-ui: tauri-driver did not answer on 127.0.0.1:4444 within 30 s" >&2
    exit 1
  fi
  TAURI_DRIVER_URL=http://127.0.0.1:4444 STUDYDESK_DESKTOP="$2" SCREENSHOT_DIR="$3" node tests/desktop/window.mjs
' "$TOOLS/bin/tauri-driver" "$WORK" "$CARGO_TARGET_DIR/release/studydesk-desktop" "$SHOTS/desktop"
echo "test-ui: screenshots in $SHOTS"
