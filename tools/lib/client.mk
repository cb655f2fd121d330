# SPDX-License-Identifier: GPL-2.0
# A program PROG (from PROG.c) linked statically against librespool, which
# is built in ../lib first. Include from a sibling of tools/lib:
#   PROG := demo
#   include ../lib/client.mk
CC ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-I../../uapi -I../lib
LDLIBS += -pthread
LIB := ../lib/librespool.a

.PHONY: all clean FORCE

all: $(PROG)

$(LIB): FORCE
	$(MAKE) -C ../lib librespool.a

$(PROG): $(PROG).c $(LIB) ../lib/librespool.h ../../uapi/linux/respool.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

clean:
	rm -f $(PROG)
