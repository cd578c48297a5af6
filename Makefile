# The two commands a user needs: `make run` and `make test`. Every target installs what is
# missing first (scripts/install-deps.sh is idempotent and quiet when nothing is missing).

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run run-single test test-long clean bench-engine bench-redis bench-collections bench-cluster bench-repair bench-stream

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# A local 3-node cluster in the foreground on 127.0.0.1:7379-7381 with its data in
# ./data/node-1..3 (scripts/run-cluster.sh); Ctrl-C stops every node cleanly.
# `make run-single`: one node (no cluster) on 127.0.0.1:7379 with its data in ./data.
run: build
	@bash scripts/run-cluster.sh $(BUILD_DIR)/cairnd

run-single: build
	@echo "Starting cairnd on 127.0.0.1:7379 (data in ./data). Connect with: redis-cli -p 7379   (Ctrl-C stops)"
	@$(BUILD_DIR)/cairnd --dir ./data

# Every fast suite: unit, model-based and crash, the unit suite under ASan + UBSan, and the
# integration suite (pytest against a real cairnd, tests/integration).
test: build
	@cd $(BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --no-label-summary --no-tests=error --timeout 600

# The same suites with many more seeds and bigger data; not run by CI.
test-long: build
	@cd $(BUILD_DIR) && CAIRN_TEST_LONG=1 ctest -j $(JOBS) --output-on-failure --no-label-summary --no-tests=error --timeout 3600

# Cairn's engine beside RocksDB and LevelDB (bench/README.md). QUICK=1 for the quick mode (under
# 2 minutes); ROCKSDB_ROOT=DIR / LEVELDB_ROOT=DIR to link another build (DIR/include, DIR/lib).
# Data goes to a directory the program creates under build-bench/ and removes; the rm clears
# what an interrupted run left behind.
bench-engine:
	@bash scripts/install-deps.sh bench
	@cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_BENCH=ON -DCAIRN_SANITIZERS=OFF -DROCKSDB_ROOT="$(ROCKSDB_ROOT)" -DLEVELDB_ROOT="$(LEVELDB_ROOT)" >/dev/null
	@cmake --build build-bench -j $(JOBS) --target engine_bench
	@rm -rf build-bench/engine_bench.*
	@build-bench/bench/engine_bench $(if $(QUICK),--quick,) --dir $(CURDIR)/build-bench

# cairnd beside redis-server under redis-benchmark, then resident memory after loading keys
# (bench/README.md). QUICK=1 for the quick mode (a few minutes). A Release cairnd is built in
# build-bench-redis/; the servers' data goes to temporary directories the script removes.
bench-redis: deps
	@cmake -S . -B build-bench-redis -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_SANITIZERS=OFF >/dev/null
	@cmake --build build-bench-redis -j $(JOBS) --target cairnd
	@/usr/bin/python3 bench/redis_bench.py --cairnd build-bench-redis/cairnd $(if $(QUICK),--quick,)

# A hash, set, list and sorted set of 1 M elements in cairnd beside redis-server: build rate,
# point-read latency, DEL, and cairnd's data directory before and after DEL and CAIRN COMPACT
# (bench/README.md). QUICK=1: 200 K elements, one run; TYPES=hash,set,list picks the types. The
# same Release cairnd as bench-redis, in build-bench-redis/.
bench-collections: deps
	@cmake -S . -B build-bench-redis -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_SANITIZERS=OFF >/dev/null
	@cmake --build build-bench-redis -j $(JOBS) --target cairnd
	@/usr/bin/python3 bench/collections_bench.py --cairnd build-bench-redis/cairnd $(if $(QUICK),--quick,) $(if $(TYPES),--types $(TYPES),)

# A 3-node Cairn cluster beside Redis Cluster (3 masters + 3 replicas) and a 3-member etcd, under
# redis-benchmark --cluster and our etcd load generator (bench/README.md). QUICK=1 for the quick
# mode (under 3 minutes with the set-up); SYSTEMS=redis,etcd leaves Cairn out, and then cairnd is
# not built. The same Release cairnd as bench-redis, in build-bench-redis/; the nodes' data goes to
# temporary directories the script removes.
SYSTEMS ?= cairn,redis,etcd
bench-cluster:
	@bash scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory -s build-bench-redis/etcd_put_load
	@$(if $(findstring cairn,$(SYSTEMS)),cmake -S . -B build-bench-redis -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_SANITIZERS=OFF >/dev/null && cmake --build build-bench-redis -j $(JOBS) --target cairnd,true)
	@/usr/bin/python3 bench/cluster_bench.py --cairnd build-bench-redis/cairnd --etcd-load build-bench-redis/etcd_put_load --systems $(SYSTEMS) $(if $(QUICK),--quick,)

bench-repair:
	@bash scripts/install-deps.sh bench
	@cmake -S . -B build-bench-redis -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_SANITIZERS=OFF >/dev/null
	@cmake --build build-bench-redis -j $(JOBS) --target cairnd cairnctl
	@/usr/bin/python3 bench/cluster_repair_bench.py --cairnd build-bench-redis/cairnd --cairnctl build-bench-redis/cairnctl $(if $(QUICK),--quick,)

# A 4th node joins a 3-node cluster holding 1 GiB and leaves again, at the default repair
# bandwidth limit and without one: streaming rate, time to add and to leave, the joiner's share
# read back (bench/README.md). QUICK=1: 100 MiB, about 2 minutes after the build (the full run
# about 8). The same Release cairnd as bench-redis, with cairnctl, in build-bench-redis/; the
# nodes' data goes to a temporary directory the script removes.
bench-stream:
	@bash scripts/install-deps.sh bench
	@cmake -S . -B build-bench-redis -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_SANITIZERS=OFF >/dev/null
	@cmake --build build-bench-redis -j $(JOBS) --target cairnd cairnctl
	@/usr/bin/python3 bench/cluster_stream_bench.py --cairnd build-bench-redis/cairnd --cairnctl build-bench-redis/cairnctl $(if $(QUICK),--quick,)

# One file, no Cairn library: etcd 3.4 as Debian packages it has no benchmark tool of its own.
build-bench-redis/etcd_put_load: bench/etcd_put_load.cc
	@mkdir -p build-bench-redis
	@g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -Wshadow -Werror -o $@ $<

clean:
	rm -rf $(BUILD_DIR)
