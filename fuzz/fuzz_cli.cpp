// Fuzzes the whole command line in-process: the input is split at whitespace into argv and handed
// to attnsim's main (cli/main.cpp, compiled in here under another name). The checked property is
// that every input ends with exit 0, 1 or 2 and no crash, hang or sanitizer report.
//
// Safety: the fuzzer runs in its own fresh scratch directory and must never write outside it.
// Inputs are dropped (not run) when an argument holds a '/' or a "..", so that no path (of -o,
// --output, --write-profiles, --plot, --hw-dir or any later option) can leave that directory or
// reach /dev; and when they would run real kernels (hw probe, validate --backend), which take
// seconds by design and are not parsers. $ATTNSIM_HW_PATH is cleared.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"

int attnsim_main(int argc, char** argv);

namespace {

constexpr std::size_t kMaxArgs = 40;

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool safe_to_run(const std::vector<std::string>& words) {
  if (words.size() > kMaxArgs) return false;
  for (const std::string& w : words) {
    if (w.find('/') != std::string::npos || w.find("..") != std::string::npos) return false;
    if (w.find('\0') != std::string::npos) return false;
    if (w == "probe" || w.rfind("--backend", 0) == 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ::unsetenv("ATTNSIM_HW_PATH");
  (void)fuzz_support::scratch_dir();  // and chdir into it
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words = split_words(fuzz_support::as_text(data, size));
  if (!safe_to_run(words)) return -1;  // -1: libFuzzer keeps it out of the corpus
  words.insert(words.begin(), "attnsim");
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int code = attnsim_main(static_cast<int>(words.size()), argv.data());
  if (code < 0 || code > 2) std::abort();
  return 0;
}
