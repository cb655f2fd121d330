#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lib_test_ioctl.sh - lib_test on librespool's ioctl path: every test of
# lib_test with the fast path switched off (RESPOOL_FASTPATH=0), so that
# make check runs both paths; the fast path's own tests skip and say why.
# Its output is lib_test's, "# Totals:" line included.
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1
RESPOOL_FASTPATH=0 exec ./lib_test "$@"
