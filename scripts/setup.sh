#!/usr/bin/env bash
# Installs what StudyDesk needs and is missing; does nothing when everything is there.
#   setup.sh             the core: build tools, embedding model, ONNX Runtime, pdfium
#   setup.sh --with-llm  also the local language model: llama-server (built from source) and
#                        Qwen2.5-Coder-0.5B-Instruct (GGUF), about 8 minutes and 500 MB once
#   setup.sh --desktop   also what the desktop app builds against (WebKitGTK, GTK) and its UI
#                        (npm packages from the registry, then `vite build` into ui/dist)
set -euo pipefail
source "$(dirname "$0")/env.sh"
WITH_LLM=0
DESKTOP=0
for arg in "$@"; do
  case "$arg" in
    --with-llm) WITH_LLM=1 ;;
    --desktop) DESKTOP=1 ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done

need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }
need_cmd cargo "install Rust 1.95 with rustup"
need_cmd python3 "apt-get install python3"

# Debian packages, installed only when one is missing; the test command adds its own tools
# through STUDYDESK_EXTRA_APT.
APT_PACKAGES=(pkg-config libssl-dev python3-venv ${STUDYDESK_EXTRA_APT:-})
((WITH_LLM)) && APT_PACKAGES+=(cmake g++)
((DESKTOP)) && APT_PACKAGES+=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev
  librsvg2-dev libxdo-dev fonts-noto-cjk)
if ((DESKTOP)); then
  # Vite needs Node 20.19 or newer (Debian 12's own nodejs is 18).
  need_cmd node "install Node.js 20 or newer"
  need_cmd npm "install npm (it comes with Node.js)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' ||
    { echo "setup: Node.js $(node --version) is too old for the UI build; install 20.19 or newer" >&2; exit 1; }
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
    # Some images carry a newer libpcre2-8-0 (a security update) than the -dev package the
    # mirror offers, which blocks the GTK headers; align it with the -dev package and retry.
    pcre="$(apt-cache policy libpcre2-dev | awk '/Candidate:/ {print $2}')"
    echo "setup: retrying with libpcre2-8-0=$pcre to match libpcre2-dev"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --allow-downgrades \
      "libpcre2-8-0=$pcre" "${missing[@]}" >/dev/null
  fi
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

if ((WITH_LLM)); then
  "$REPO_ROOT/scripts/provision.sh" --with-llm
else
  "$REPO_ROOT/scripts/provision.sh"
fi

if ((DESKTOP)); then
  # The UI's packages come from the npm registry, pinned by ui/package-lock.json; they are
  # reinstalled only when the lock file changes.
  stamp="$REPO_ROOT/ui/node_modules/.studydesk-lock"
  if ! cmp -s "$REPO_ROOT/ui/package-lock.json" "$stamp" 2>/dev/null; then
    echo "setup: installing the UI's npm packages"
    (cd "$REPO_ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$REPO_ROOT/ui/package-lock.json" "$stamp"
  fi
  (cd "$REPO_ROOT/ui" && npm run --silent build >/dev/null)
fi
