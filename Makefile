# mailvet - one Makefile for the daemon, its libraries and its tests.
#
#   make              build milter/mailvet (strict warnings, -Werror)
#   make deps         install missing Debian packages (non-interactive)
#   make test         unit, rules, protocol and end-to-end tests, then the
#                     same suite again under AddressSanitizer + UBSan
#   make demo         private Postfix + test DNS + mailvet on loopback
#   make san          sanitizer build only (into build-san/)
#   make bench        benchmarks against peers (tests/bench/RESULTS.md)
#   make conformance  public conformance suites (../shared/conformance)
#
# Sources are picked up by directory: every .c under lib/, conf/, rules/,
# milter/ (but milter/main.c) goes into one static library that the daemon,
# the unit tests and the fuzz targets link against.

BUILD	?= build
SAN	?=
CC	?= cc

WARN	= -std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -Wconversion -Wvla \
	  -Wimplicit-fallthrough -Werror
DEFS	= -D_GNU_SOURCE -I. $(shell pkg-config --cflags libcares 2>/dev/null)
ifeq ($(SAN),1)
OPT	= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined
LDSAN	= -fsanitize=address,undefined
else
OPT	= -O2 -g -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
LDSAN	= -pie -Wl,-z,relro,-z,now
endif
CFLAGS	+= $(WARN) $(OPT) $(DEFS)
LIBS	= -lmilter -lspf2 -lopendkim -lcrypto -lcares -lresolv -lpthread -lm
LDFLAGS	+= $(LDSAN)

LIB_SRC	= $(sort $(wildcard lib/*.c conf/*.c rules/*.c milter/*.c \
	  milter/dns/*.c milter/checks/*.c))
LIB_SRC	:= $(filter-out milter/main.c,$(LIB_SRC))
LIB_OBJ	= $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBA	= $(BUILD)/libmailvet.a
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The fake DNS server (tests/unit/fakedns.c) is linked only into the unit
# tests that ask it: its poll() would pull milter/quickack.c's interposer
# out of the library into every other one.
FAKEDNS	= $(BUILD)/tests/fakedns.o
FAKEDNS_USERS = $(BUILD)/tests/test_dns $(BUILD)/tests/test_dnsbl
TOOL_SRC = $(sort $(wildcard tests/tools/*.c))
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
DAEMON	= $(BUILD)/mailvet

.PHONY: all deps test test-quick san demo clean format check-format fuzz \
	conformance bench

all: $(DAEMON) milter/mailvet $(UNIT_BIN) $(TOOL_BIN)

# The documented path of the daemon is milter/mailvet; the sanitizer build
# lives in build-san/mailvet and never overwrites it.
milter/mailvet: $(BUILD)/mailvet
	@if [ "$(BUILD)" = build ]; then cp -f $< $@; fi

$(DAEMON): $(BUILD)/milter/main.o $(LIBA)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) tests/unit/testlib.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(filter %.o,$^) $(LIBA) $(LDFLAGS) $(LIBS)

$(FAKEDNS_USERS): $(FAKEDNS) tests/unit/fakedns.h

$(FAKEDNS): tests/unit/fakedns.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tools/%: tests/tools/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(LIBS)

-include $(LIB_OBJ:.o=.d) $(BUILD)/milter/main.d $(FAKEDNS:.o=.d)

deps:
	@sh tests/install-deps.sh

san:
	$(MAKE) BUILD=build-san SAN=1 all

# Plain suite, then the whole suite again under ASan + UBSan.
test: deps all check-format
	$(MAKE) BUILD=build-san SAN=1 all
	sh tests/run.sh build build-san

test-quick: all
	sh tests/run.sh build

demo: deps all
	sh tests/e2e/demo.sh

fuzz:
	sh tests/fuzz/build.sh

# Benchmarks (not part of make test): ratios against peers, same run.
bench: deps all
	sh tests/bench/run.sh

conformance: all
	bash tests/conformance/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && \
	    echo "check-format: every C file follows .clang-format"

clean:
	rm -rf build build-san milter/mailvet
