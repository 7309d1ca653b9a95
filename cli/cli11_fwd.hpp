// Forward declarations of the CLI11 types that headers only name by pointer or reference. CLI11 is
// header-only and costly to compile (every file that includes it parses it, and emits the inline
// code it uses), so headers include this, and only the files that declare options include
// <CLI/CLI.hpp>.
#pragma once

namespace CLI {
class App;
class Option;
}  // namespace CLI
