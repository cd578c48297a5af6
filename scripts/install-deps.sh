#!/usr/bin/env bash
# Installs the Debian packages Cairn builds and tests with, and only those that are missing.
# Idempotent: a second run installs nothing and does not touch the network.
#
#   scripts/install-deps.sh         what building and testing Cairn needs
#   scripts/install-deps.sh bench   that, plus the peers the benchmarks compare against
set -euo pipefail

packages=(
  build-essential   # g++, make
  cmake
  ninja-build
  pkg-config
  libgtest-dev
  libgmock-dev
  libxxhash-dev     # checksums and hashing (src/common)
  liblz4-dev        # block compression (src/storage)
  libzstd-dev       # block compression (src/storage)
  libspdlog-dev     # logging (src/server, src/tools)
  libtomlplusplus-dev  # cairnd's config file (src/server)
  libcli11-dev      # the command lines of cairnd and cairnctl (src/tools)
  libjemalloc-dev   # cairnd's allocator, which backs the caches and memtables with huge pages
  nlohmann-json3-dev  # cairnctl's --json output (src/admin)
  redis-server      # tests/integration: the differential test's reference server
  redis-tools       # tests/integration: redis-cli and redis-benchmark against cairnd
  python3-redis     # tests/integration: the client the integration tests drive cairnd with
  python3-pytest    # tests/integration: the test runner
)
if [ "${1:-}" = "bench" ]; then
  packages+=(
    librocksdb-dev  # bench/: the engine beside RocksDB
    libleveldb-dev  # bench/: the engine beside LevelDB
    etcd-server     # bench/: the cluster beside a 3-member etcd (make bench-cluster); etcd 3.4
  )
fi

# tests/compat: Node.js client libraries (ioredis) from the npm registry, pinned by
# tests/compat/package-lock.json. Node.js and npm come from the machine, or from Debian's
# packages when the machine has none.
install_node_clients() {
  local compat
  compat="$(cd "$(dirname "$0")/.." && pwd)/tests/compat"
  if [ -f "$compat/node_modules/ioredis/package.json" ]; then
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  echo "install-deps: installing the Node.js clients of tests/compat (npm ci)"
  npm ci --prefix "$compat" --no-audit --no-fund --loglevel=error >/dev/null
}

apt_install() {
  echo "install-deps: installing $*"
  local sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi
install_node_clients
