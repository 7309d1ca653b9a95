#include "cli/output.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include "models/errors.hpp"

namespace cli {

Format parse_format(std::string_view name) {
  if (name == "table") return Format::table;
  if (name == "json") return Format::json;
  if (name == "csv") return Format::csv;
  throw models::SpecError(fmt::format("unknown format '{}'; allowed: table, json, csv", name));
}

void write_output(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    return;
  }
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path tmp = target.string() + fmt::format(".tmp.{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("cannot write '{}'", tmp.string()));
    out << text;
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      throw std::runtime_error(fmt::format("cannot write '{}'", tmp.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error(fmt::format("cannot write '{}': {}", path, ec.message()));
  }
}

namespace {
std::string scaled(double value, const char* const* units, int n_units, double step,
                   const char* suffix) {
  int i = 0;
  double v = value;
  while (std::fabs(v) >= step && i + 1 < n_units) {
    v /= step;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, units[i], suffix);
}
}  // namespace

std::string human_time(double s) {
  if (s < 1e-6) return fmt::format("{:.3g} ns", s * 1e9);
  if (s < 1e-3) return fmt::format("{:.3g} us", s * 1e6);
  if (s < 1) return fmt::format("{:.3g} ms", s * 1e3);
  return fmt::format("{:.3g} s", s);
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"", "k", "M", "G", "T", "P", "E"};
  return scaled(bytes, units, 7, 1000.0, "B");
}

std::string human_count(double count) {
  static const char* const units[] = {"", "k", "M", "G", "T", "P", "E"};
  std::string s = scaled(count, units, 7, 1000.0, "");
  if (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace cli
