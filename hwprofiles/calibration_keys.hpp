// The entries `calibration.schedules` may hold (hwprofiles/SCHEMA.md): a kernel's forward entry
// (its `--kernel` name), `<name>_bwd` for a kernel with its own backward entry, and the entries
// that are no kernel. The loader refuses any other key, so a misspelt entry (`splitkv`) is an
// error rather than an entry nothing reads. hwprofiles/ sees no schedule (docs/ARCHITECTURE.md:
// sim/ depends on hwprofiles/, not the reverse), so the names are listed here;
// tests/sim/test_calibration_keys.cpp pins this list to sim::schedules().
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hw {

struct CalibratedKernel {
  std::string_view name;  // a `--kernel` name
  // Whether `<name>_bwd` is an entry: a kernel with a backward model of its own and not one that
  // lowers scans (those price both passes with their one entry).
  bool backward_entry;
};

// Every tile-engine kernel, in the order `--kernel` lists them.
const std::vector<CalibratedKernel>& calibrated_kernels();
// The entries that are no kernel: the support entries `gemm` and `chunked_scan` (the third,
// `unfused`, is also a kernel) and `nsa_triton_scores` (nsa_triton_compressed's score kernel).
const std::vector<std::string_view>& calibration_entries_besides_kernels();

// Every allowed key of calibration.schedules: each kernel, then its `_bwd`, then the others.
std::vector<std::string> calibration_keys();
bool is_calibration_key(std::string_view key);

}  // namespace hw
