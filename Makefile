# parcours - plain Makefile. `make` builds bin/parcours; `make demo` and
# `make check` first install the Debian packages they need (tools/install-deps).
#
# Layout: src/LAYER/*.c (src/cli/main.c holds main()) -> obj/libparcours.a +
# bin/parcours; layers: cli, store, engine, analytics, report, synth, base;
# tests/unit/test_X.c -> bin/tests/test_X (one CUnit program per module);
# the same unit tests under ASan+UBSan in bin/asan/.

PKGS      := hdf5-openmpi glib-2.0 json-glib-1.0 libdeflate liblz4
CC        ?= cc
CC        := $(if $(filter cc default,$(origin CC) $(CC)),mpicc,$(CC))
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN      := -Wall -Wextra -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fopenmp -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LIBS       = $(PKG_LIBS) -lz -lm -fopenmp
ASAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g

SRC       := $(sort $(wildcard src/*/*.c))
LIBSRC    := $(filter-out src/cli/main.c,$(SRC))
OBJ       := $(patsubst src/%.c,obj/%.o,$(LIBSRC))
AOBJ      := $(patsubst src/%.c,obj/asan/%.o,$(LIBSRC))
UNITSRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITBIN   := $(patsubst tests/unit/%.c,bin/tests/%,$(UNITSRC))
ASANBIN   := $(patsubst tests/unit/%.c,bin/asan/%,$(UNITSRC))
HDR       := $(wildcard include/*.h) $(wildcard src/*/*.h) $(wildcard tests/unit/*.h)

.PHONY: all deps demo check unit unit-asan integration bench fuzz clean check-determinism conformance

all: bin/parcours

deps:
	@tools/install-deps

obj/%.o: src/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
obj/asan/%.o: src/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN) -c $< -o $@
obj obj/asan bin bin/tests bin/asan bin/conformance:
	@mkdir -p $@

obj/libparcours.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^
obj/asan/libparcours.a: $(AOBJ)
	rm -f $@ && ar rcs $@ $^

bin/parcours: src/cli/main.c obj/libparcours.a $(HDR) | bin
	$(CC) $(ALL_CFLAGS) src/cli/main.c obj/libparcours.a $(LIBS) -o $@

bin/tests/%: tests/unit/%.c obj/libparcours.a $(HDR) | bin/tests
	$(CC) $(ALL_CFLAGS) $< obj/libparcours.a $(LIBS) -lcunit -o $@
bin/asan/%: tests/unit/%.c obj/asan/libparcours.a $(HDR) | bin/asan
	$(CC) $(ALL_CFLAGS) $(ASAN) $< obj/asan/libparcours.a $(LIBS) -lcunit -o $@

bin/read-bench: bench/read-bench.c obj/libparcours.a $(HDR) | bin
	$(CC) $(ALL_CFLAGS) $< obj/libparcours.a $(LIBS) -o $@

bin/conformance/%: tests/conformance/%.c obj/libparcours.a $(HDR) | bin/conformance
	$(CC) $(ALL_CFLAGS) $< obj/libparcours.a $(LIBS) -o $@

unit: $(UNITBIN)
	@tools/run-unit bin/tests $(UNITBIN)
unit-asan: $(ASANBIN)
	@ASAN_OPTIONS=detect_leaks=0 tools/run-unit bin/asan $(ASANBIN)

integration: bin/parcours
	@tests/run-integration

# The README's test command: set-up, build, every test.
check: deps
	@$(MAKE) --no-print-directory all unit unit-asan
	@$(MAKE) --no-print-directory integration

check-determinism: bin/parcours
	@tests/run-integration determinism

# The README's first command: set-up, build, data, the main job, the report.
demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo

# spec §5 against ClickHouse itself (chDB, npm peers of bench/): the levels
# of every windowFunnel mode combination on random journeys (docs/conformance.md).
conformance:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all bin/conformance/funnel_levels
	@tests/conformance/run

bench:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all
	@bench/run-all

fuzz: deps
	@tools/fuzz

clean:
	rm -rf obj bin
