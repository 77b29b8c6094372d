#!/usr/bin/env bash
# Installs the third-party Kafka clients the compatibility tests drive (kcat, confluent-kafka-python,
# kafka-python) when they are missing. Idempotent and silent when everything is present. Without root
# (or without apt-get) it only says what is missing: the tests that need a missing client skip with a
# message naming it, so a developer machine without them still runs the rest of the suite.
set -u

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || missing+=(python3-confluent-kafka)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || missing+=(python3-kafka)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} (not root or no apt-get; the tests needing them will skip)" >&2
  exit 0
fi

echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
# Serialise with other concurrent installers (parallel CI jobs on one machine share dpkg's lock).
install="apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing[*]}"
if command -v flock >/dev/null 2>&1; then run=(flock /tmp/strata-apt.lock bash -c "$install"); else run=(bash -c "$install"); fi
if ! "${run[@]}" >"$log" 2>&1; then
  echo "install-test-deps: apt-get failed; the tests needing ${missing[*]} will skip. Last lines of its output:" >&2
  tail -n 20 "$log" >&2
fi
rm -f "$log"
exit 0
