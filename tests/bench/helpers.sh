# SPDX-License-Identifier: MIT
# helpers.sh - sourced by the bench test scripts (not run on its own):
#
#   . "$(dirname "$0")/helpers.sh"
#   scratch NAME         tmp=a new directory, removed when the script exits
#   check WHAT CMD...    run CMD: "ok: WHAT" on stdout, or "FAIL: WHAT" on
#                        stderr and one more failure; counts $checks, $fails
#
# A script ends with its own summary, e.g.
#   echo "NAME: $checks checks, $fails failed"; [ $fails = 0 ]
fails=0 checks=0

check() { # check DESCRIPTION COMMAND...
	checks=$((checks + 1))
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}

scratch() { # scratch NAME
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vqb_$1.XXXXXX") || { echo "FAIL: $1: cannot make a scratch directory" >&2; exit 1; }
	trap 'rm -rf "$tmp"' EXIT
}
