#!/bin/sh
# Cargo runs every rustc through this (see .cargo/config.toml). qdrant-edge 0.9.0 calls
# `std::debug_assert_matches`, stable only from Rust 1.97; until then its compilation alone gets
# the switch that lets stable 1.95 accept the feature. Every other crate is built as plain stable.
# Delete this file and its line in .cargo/config.toml once the toolchain is 1.97 or newer.
for arg in "$@"; do
  if [ "$arg" = qdrant_edge ]; then
    RUSTC_BOOTSTRAP=1 exec "$@" -Zcrate-attr='feature(assert_matches)'
  fi
done
exec "$@"
