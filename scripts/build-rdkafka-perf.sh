#!/usr/bin/env bash
# Builds librdkafka's rdkafka_performance (the independent client `npm run bench` drives) into a cache
# directory outside the repo. Debian does not package it; node-rdkafka's tarball bundles the librdkafka
# sources, but its own install step builds only the libraries, so we fetch the package without running its
# scripts and build librdkafka plus that one example ourselves. Idempotent: prints the binary's path and
# exits at once when it is already built.
#
# Codecs: install libzstd-dev liblz4-dev libsasl2-dev libssl-dev zlib1g-dev first (as root) so that every
# compression type is built in; the script does that itself when it runs as root and apt-get is there.
set -euo pipefail

NODE_RDKAFKA_VERSION="${NODE_RDKAFKA_VERSION:-3.6.1}"
CACHE_DIR="${STRATA_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strata-bench}"
PKG_DIR="$CACHE_DIR/node-rdkafka-$NODE_RDKAFKA_VERSION"
SRC_DIR="$PKG_DIR/package/deps/librdkafka"
BIN="$SRC_DIR/examples/rdkafka_performance"

if [[ -x "$BIN" ]] && grep -q STRATA_MOCK_PARTITION_MAX_BYTES "$SRC_DIR/src/rdkafka_mock.c" 2>/dev/null \
  && [[ ! "$SRC_DIR/src/rdkafka_mock.c" -nt "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

log() { echo "build-rdkafka-perf: $*" >&2; }

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  need=()
  for p in libzstd-dev liblz4-dev libsasl2-dev libssl-dev zlib1g-dev build-essential python3; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2; }
  fi
fi

mkdir -p "$PKG_DIR"
if [[ ! -f "$SRC_DIR/configure" ]]; then
  log "fetching node-rdkafka@$NODE_RDKAFKA_VERSION into $PKG_DIR"
  tarball="$(cd "$PKG_DIR" && npm pack --silent "node-rdkafka@$NODE_RDKAFKA_VERSION" | tail -n 1)"
  tar -xzf "$PKG_DIR/$tarball" -C "$PKG_DIR"
  rm -f "$PKG_DIR/$tarball"
fi

cd "$SRC_DIR"

# The mock cluster keeps only 5 MB per partition in memory and auto-creates topics with 4 partitions, both
# hard-coded. The bench runs the mock as a separate process and needs it to hold a whole catch-up topic and
# to match each scenario's partition count, so both become overridable by environment variables; with the
# variables unset the mock behaves exactly as upstream. Nothing outside the mock cluster is touched.
if ! grep -q STRATA_MOCK_PARTITION_MAX_BYTES src/rdkafka_mock.c; then
  log "patching the mock cluster's retention and default partition count to be settable"
  sed -i \
    -e 's|mpart->max_size = 1024 \* 1024 \* 5;|mpart->max_size = getenv("STRATA_MOCK_PARTITION_MAX_BYTES") ? (size_t)strtoull(getenv("STRATA_MOCK_PARTITION_MAX_BYTES"), NULL, 10) : 1024 * 1024 * 5;|' \
    -e 's|mpart->max_cnt  = 100000;|mpart->max_cnt = getenv("STRATA_MOCK_PARTITION_MAX_BYTES") ? (size_t)-1 : 100000;|' \
    -e 's|mcluster->defaults.partition_cnt      = 4;|mcluster->defaults.partition_cnt = getenv("STRATA_MOCK_PARTITIONS") ? atoi(getenv("STRATA_MOCK_PARTITIONS")) : 4;|' \
    src/rdkafka_mock.c
  grep -q STRATA_MOCK_PARTITIONS src/rdkafka_mock.c || { log "mock patch did not apply"; exit 1; }
  grep -q 'max_cnt = getenv' src/rdkafka_mock.c || { log "mock patch did not apply"; exit 1; }
fi

jobs="$(nproc 2>/dev/null || echo 2)"
if [[ ! -f Makefile.config ]]; then
  log "configuring librdkafka"
  # System zstd/lz4/ssl/sasl are picked up when their -dev packages are present; no network fetches.
  ./configure --enable-lz4-ext --enable-zstd --enable-ssl --enable-gssapi >&2
fi
log "building librdkafka (a couple of minutes, once)"
make -C src -j"$jobs" >&2
make -C examples rdkafka_performance >&2
echo "$BIN"
