#!/usr/bin/env bash
# Installs what StudyDesk needs and is missing; does nothing when everything is there.
#   setup.sh             the core: build tools, embedding model, ONNX Runtime, pdfium
#   setup.sh --with-llm  also the local language model: llama-server (built from source) and
#                        Qwen2.5-Coder-0.5B-Instruct (GGUF), about 8 minutes and 500 MB once
set -euo pipefail
source "$(dirname "$0")/env.sh"
WITH_LLM=0
[ "${1:-}" = "--with-llm" ] && WITH_LLM=1

need_cmd() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }; }
need_cmd cargo "install Rust 1.95 with rustup"
need_cmd python3 "apt-get install python3"

# Debian packages, installed only when one is missing; the test command adds its own tools
# through STUDYDESK_EXTRA_APT.
APT_PACKAGES=(pkg-config libssl-dev python3-venv ${STUDYDESK_EXTRA_APT:-})
((WITH_LLM)) && APT_PACKAGES+=(cmake g++)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

if ((WITH_LLM)); then
  "$REPO_ROOT/scripts/provision.sh" --with-llm
else
  "$REPO_ROOT/scripts/provision.sh"
fi
