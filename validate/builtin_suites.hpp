// The suites shipped in validate/suites/, embedded at build time (name, JSON text).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace validate {

std::vector<std::pair<std::string_view, std::string_view>> builtin_suite_files();

}  // namespace validate
