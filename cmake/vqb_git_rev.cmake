# vqb_git_rev.cmake - writes OUT (a header defining VQB_GIT_REV) from
# `git describe` of SRC at every build, rewriting it only when the revision
# changed, so a rebuild after a commit records the new revision (a value
# taken at configure time would go stale) without recompiling otherwise.
# Usage: cmake -DSRC=<source dir> -DOUT=<header> -P vqb_git_rev.cmake
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rev)
  set(rev "unknown")
endif()
file(WRITE "${OUT}.tmp" "/* Generated at build time by cmake/vqb_git_rev.cmake. */\n#define VQB_GIT_REV \"${rev}\"\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
