// A sweep spec file (`attnsim sweep --spec FILE.json`): the sweep's flags written as one JSON
// object, so a study can be kept, reviewed and rerun. Keys are the flag names without the leading
// dashes ("seq-len"; "seq_len" is read the same); values are what the flag takes:
//   {"variant": ["gqa", "mla"], "seq-len": "1024..131072:x2", "batch": [1, 8, 64],
//    "hw": "h100,b200", "param": {"window": 4096}, "causal": true, "format": "csv"}
// A string is used as written (list and range syntax included), an integer in decimal, an array
// as a comma list (or as repeated values for repeatable flags such as "param" and "hw-set"), an
// object as name=value pairs (a "param" member may be a list: a sweep axis) and a boolean as
// true/false. A flag given on the command line wins over the same key in the file; for "param"
// and "hw-set", name by name (cli/cmd_sweep.cpp apply_spec).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli11_fwd.hpp"

namespace cli {

struct SweepSpecEntry {
  std::string key;                  // the flag name, dashes: "seq-len"
  std::string name;                 // the key as the file writes it ("seq_len"), for messages
  std::vector<std::string> values;  // one per occurrence of the flag
};

// Parses the spec text; `source` names it in errors. Throws common::SpecError for malformed JSON,
// a document that is not an object, a repeated key, or a value of a kind no flag takes (null,
// a fraction, an array inside an array). Whether each key is a flag is checked by the caller.
std::vector<SweepSpecEntry> parse_sweep_spec(std::string_view text, std::string_view source);

// Reads the file at `path` and parses it; throws common::SpecError when it cannot be read.
std::vector<SweepSpecEntry> load_sweep_spec(const std::string& path);

// Applies a --spec file to the sweep command's options (cli/sweep_spec_apply.cpp): each key sets
// the flag of that name unless the command line gave it (for param and hw-set, name by name).
// Returns the entries it set. Throws common::SpecError naming the file and key for an unknown key
// or a value the flag refuses.
std::vector<SweepSpecEntry> apply_spec(CLI::App& command, const std::string& path);

// Rethrows `e` (bad input found once the sweep reads a flag's value) as common::SpecError naming
// the spec file and key where that flag came from the file; anything else is rethrown as it was.
// Call it from a handler only.
[[noreturn]] void rethrow_naming_spec(const std::invalid_argument& e, const std::string& path,
                                      const std::vector<SweepSpecEntry>& from_spec);

}  // namespace cli
