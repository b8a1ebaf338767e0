# SPDX-License-Identifier: MIT
# The libFuzzer harnesses, one per untrusted input, as NAME:LIBRARY pairs.
# fuzz/CMakeLists.txt builds each with libFuzzer (VQB_FUZZ, clang);
# tests/fuzz/CMakeLists.txt builds each with fuzz_replay.c as a CTest that
# replays its seed corpus and every crash input found (fuzz/corpus/NAME,
# fuzz/regress/NAME).
set(VQB_FUZZ_HARNESSES
  fuzz_check:vqbcli
  fuzz_csv:vqbcli
  fuzz_opts:vqbcli
  fuzz_ring_dev:vq
  fuzz_ring_drv:vqtrack
  fuzz_virtio_pci:vqdev
  fuzz_vu_backend:vqdev
  fuzz_vu_msg:vqdev)
