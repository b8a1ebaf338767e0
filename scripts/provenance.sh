# SPDX-License-Identifier: MIT
# provenance.sh - sourced by the scripts that write results (study.sh,
# perf-all.sh, regress.sh; skip-matrix.py has the same rule in Python):
# results come from a committed tree.
#
#   vqb_provenance NAME ALLOW_DIRTY(0|1)
#     clean tree (git status --porcelain empty; build/ is ignored): returns,
#       VQB_DIRTY=0.
#     dirty tree, ALLOW_DIRTY=0: prints what is uncommitted and exits 2.
#     dirty tree, ALLOW_DIRTY=1: VQB_DIRTY=1 and VQB_DIRTY_DIR=dirty-<UTC>
#       (e.g. dirty-20261204-233501): the caller writes every output under
#       OUT/$VQB_DIRTY_DIR/, so nothing committed is overwritten, and each
#       output is marked dirty by its path; vqb_mark_dirty DIR writes
#       DIR/DIRTY naming the revision and the uncommitted files.
#   Not a git work tree: treated as dirty (no revision to name).
vqb_provenance() {
	local name=$1 allow=$2 st
	VQB_DIRTY=0
	VQB_DIRTY_DIR=
	if st=$(git status --porcelain 2>/dev/null); then
		[ -z "$st" ] && return 0
	else
		st="(not a git work tree: no revision)"
	fi
	if [ "$allow" != 1 ]; then
		{
			echo "$name: refusing to run on a tree with uncommitted changes (results must name a commit):"
			printf '%s\n' "$st" | head -n 10 | sed 's/^/  /'
			[ "$(printf '%s\n' "$st" | wc -l)" -gt 10 ] && echo "  ..."
			echo "$name: commit or stash them, or pass --allow-dirty (outputs then go under <out>/dirty-<UTC time>/, marked dirty)"
		} >&2
		exit 2
	fi
	VQB_DIRTY=1
	VQB_DIRTY_DIR=dirty-$(date -u +%Y%m%d-%H%M%S)
	echo "$name: --allow-dirty: the tree has uncommitted changes; every output goes under $VQB_DIRTY_DIR/" >&2
}

vqb_mark_dirty() {
	local dir=$1
	mkdir -p "$dir"
	{
		echo "dirty: made $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git describe --always --dirty --abbrev=12 2>/dev/null || echo 'no revision') with uncommitted changes:"
		git status --porcelain 2>/dev/null | sed 's/^/  /'
	} > "$dir/DIRTY"
}
