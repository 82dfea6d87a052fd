#!/usr/bin/env bash
# Builds a pinned nats-server release from source with `go install` (module proxy), once, and prints
# the path of the binary. A second run finds the binary and only prints its path.
#
#   scripts/nats-server.sh            # the pinned version below
#   scripts/nats-server.sh v2.12.1    # another release
#   NATS_SERVER_BIN="$(scripts/nats-server.sh)" npm run test:nats-latest
#
# The binary goes to ${EBIND_CACHE_DIR:-$HOME/.cache/ebind}/nats-server/<version>/nats-server.
# Go is taken from PATH, else /usr/local/go/bin. Progress goes to stderr; stdout is the path only.
set -euo pipefail

version="${1:-v2.15.3}"
dir="${EBIND_CACHE_DIR:-$HOME/.cache/ebind}/nats-server/${version}"
bin="${dir}/nats-server"

if [ ! -x "$bin" ]; then
  go_cmd="$(command -v go || true)"
  if [ -z "$go_cmd" ] && [ -x /usr/local/go/bin/go ]; then go_cmd=/usr/local/go/bin/go; fi
  if [ -z "$go_cmd" ]; then
    echo "nats-server.sh: Go not found on PATH nor at /usr/local/go/bin/go" >&2
    exit 1
  fi
  mkdir -p "$dir"
  echo "nats-server.sh: building github.com/nats-io/nats-server/v2@${version} into ${dir}" >&2
  start=$SECONDS
  GOBIN="$dir" "$go_cmd" install "github.com/nats-io/nats-server/v2@${version}"
  echo "nats-server.sh: built in $((SECONDS - start)) s" >&2
fi

echo "$bin"
