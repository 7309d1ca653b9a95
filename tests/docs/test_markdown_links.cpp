// The documentation ships with the code: every relative link in the repository's Markdown files
// resolves (the file exists, and a #anchor into a Markdown file names one of its headings, slugged
// as GitHub does), every docs/ section that sources, profiles and tests cite exists, and nothing
// points outside the repository at the old shared notes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using test_support::read_file;

namespace {

// GitHub's heading anchor: lower case, spaces become hyphens, every other character that is not
// a letter, digit, hyphen or underscore is dropped. Non-ASCII bytes are dropped too (GitHub keeps
// non-ASCII letters; the repository's headings are ASCII).
std::string github_slug(std::string_view heading) {
  std::string slug;
  for (const char ch : heading) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (c == ' ') {
      slug += '-';
    } else if (c == '-' || c == '_') {
      slug += ch;
    }
  }
  return slug;
}

struct Link {
  int line;
  std::string target;
};

// What the checks need from one Markdown file: its heading texts, anchors and links, outside
// fenced code blocks and inline code spans.
struct MarkdownFile {
  std::vector<std::string> headings;
  std::set<std::string> anchors;
  std::vector<Link> links;
};

bool is_fence(const std::string& line) {
  const auto start = line.find_first_not_of(' ');
  return start != std::string::npos && start <= 3 &&
         (line.compare(start, 3, "```") == 0 || line.compare(start, 3, "~~~") == 0);
}

// The line with inline code spans removed (a link inside `...` is an example, not a link).
std::string without_code_spans(const std::string& line) {
  std::string out;
  bool in_code = false;
  for (const char c : line) {
    if (c == '`') {
      in_code = !in_code;
    } else if (!in_code) {
      out += c;
    }
  }
  return out;
}

void add_heading(const std::string& line, MarkdownFile& md, std::map<std::string, int>& seen) {
  static const std::regex kHeading(R"(^#{1,6}\s+(.*?)\s*#*\s*$)");
  static const std::regex kLinkText(R"(\[([^\]]*)\]\([^)]*\))");
  std::smatch m;
  if (!std::regex_match(line, m, kHeading)) return;
  const std::string text = std::regex_replace(m[1].str(), kLinkText, "$1");
  md.headings.push_back(text);
  const std::string slug = github_slug(text);
  const int n = seen[slug]++;
  md.anchors.insert(n == 0 ? slug : slug + "-" + std::to_string(n));
}

MarkdownFile parse_markdown(const std::string& text) {
  static const std::regex kInline(R"(\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\))");
  static const std::regex kReference(R"(^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?)");
  static const std::regex kHtmlAnchor(R"re(<a\s+(?:name|id)\s*=\s*"([^"]+)")re");
  MarkdownFile md;
  std::map<std::string, int> seen;
  std::istringstream lines(text);
  std::string line;
  bool fenced = false;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_fence(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    add_heading(line, md, seen);
    const std::string plain = without_code_spans(line);
    for (std::sregex_iterator it(plain.begin(), plain.end(), kHtmlAnchor), end; it != end; ++it) {
      md.anchors.insert((*it)[1].str());
    }
    for (std::sregex_iterator it(plain.begin(), plain.end(), kInline), end; it != end; ++it) {
      md.links.push_back({number, (*it)[1].str()});
    }
    std::smatch m;
    if (std::regex_search(plain, m, kReference)) md.links.push_back({number, m[1].str()});
  }
  return md;
}

bool skipped_directory(const fs::path& dir) {
  const std::string name = dir.filename().string();
  // .deps/ holds the copied dependency headers of validate/run-on-gpu.sh --prepare-deps (ignored).
  return name == ".git" || name == ".deps" || name.rfind("build", 0) == 0;
}

// Every regular file under `root` whose name `wanted` accepts, skipping .git/, .deps/ and build*/.
template <typename Wanted>
std::vector<fs::path> files_under(const fs::path& root, Wanted wanted) {
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_directory() && skipped_directory(it->path())) {
      it.disable_recursion_pending();
    } else if (it->is_regular_file() && wanted(it->path())) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> markdown_files(const fs::path& root) {
  return files_under(root, [](const fs::path& p) { return p.extension() == ".md"; });
}

// Sources, docs, profiles, scripts and data: every text file the repository ships.
std::vector<fs::path> text_files(const fs::path& root) {
  static const std::set<std::string> kExtensions = {".md",  ".cpp",  ".hpp", ".h",   ".cu",
                                                    ".cuh", ".json", ".sh",  ".txt", ".in",
                                                    ".csv", ".py",   ".yml", ".yaml"};
  return files_under(root, [](const fs::path& p) {
    return kExtensions.count(p.extension().string()) > 0 || p.filename() == "run";
  });
}

class Checker {
 public:
  explicit Checker(fs::path root) : root_(std::move(root)) {}

  // "file:line: message" for every link of every Markdown file under the root that does not
  // resolve.
  std::vector<std::string> broken_links() {
    std::vector<std::string> problems;
    for (const fs::path& file : markdown_files(root_)) {
      for (const Link& link : parsed(file).links) {
        const std::string problem = check(file, link.target);
        if (!problem.empty()) {
          problems.push_back(fs::relative(file, root_).string() + ":" + std::to_string(link.line) +
                             ": link '" + link.target + "' " + problem);
        }
      }
    }
    return problems;
  }

  const MarkdownFile& parsed(const fs::path& file) {
    const std::string key = fs::weakly_canonical(file).string();
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, parse_markdown(read_file(file))).first;
    return it->second;
  }

  // Empty when `target`, a link in `file`, resolves; otherwise why not.
  std::string check(const fs::path& file, const std::string& target) {
    if (target.find("://") != std::string::npos || target.rfind("mailto:", 0) == 0) return "";
    const auto hash = target.find('#');
    const std::string path = target.substr(0, hash);
    const std::string anchor = hash == std::string::npos ? "" : target.substr(hash + 1);
    fs::path resolved = file;
    if (!path.empty()) {
      resolved = path[0] == '/' ? root_ / path.substr(1) : file.parent_path() / path;
      if (!fs::exists(resolved)) return "names a missing file";
    }
    if (anchor.empty() || resolved.extension() != ".md") return "";
    if (parsed(resolved).anchors.count(anchor) == 0) return "names a missing heading";
    return "";
  }

 private:
  fs::path root_;
  std::map<std::string, MarkdownFile> cache_;
};

// A section label such as "A4", "0.2" or "D3-D7" (a range needs both ends, or one heading that
// names the whole range) is a heading's leading word.
bool has_section(const MarkdownFile& md, const std::string& label) {
  const auto starts = [&](const std::string& l) {
    return std::any_of(md.headings.begin(), md.headings.end(), [&](const std::string& h) {
      return h.rfind(l, 0) == 0 &&
             (h.size() == l.size() || std::string(" .-:").find(h[l.size()]) != std::string::npos);
    });
  };
  const auto dash = label.find('-');
  if (starts(label) || dash == std::string::npos) return starts(label);
  return starts(label.substr(0, dash)) && starts(label.substr(dash + 1));
}

// "file:line: ..." for every citation of docs/<name>.md (with a #anchor or a § section) in the text
// files under `root` that names a missing document, anchor or section. Paths inside other
// repositories (".../docs/20250422-...md") are not ours and are skipped.
std::vector<std::string> broken_citations(const fs::path& root) {
  static const std::regex kCitation(
      "(^|[^\\w/.-])docs/([A-Za-z][\\w-]*\\.md)(#([\\w-]+)|\\s*\xC2\xA7\\s*([0-9A-Z][0-9A-Za-z.]*"
      "(-[0-9A-Z][0-9A-Za-z.]*)?))?");
  Checker checker(root);
  std::vector<std::string> problems;
  for (const fs::path& file : text_files(root)) {
    std::istringstream lines(read_file(file));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      for (std::sregex_iterator it(line.begin(), line.end(), kCitation), end; it != end; ++it) {
        const fs::path doc = root / "docs" / (*it)[2].str();
        std::string label = (*it)[5].str();
        while (!label.empty() && label.back() == '.') label.pop_back();
        std::string problem;
        if (!fs::exists(doc)) {
          problem = "a missing document";
        } else if ((*it)[4].matched && checker.parsed(doc).anchors.count((*it)[4].str()) == 0) {
          problem = "a missing heading #" + (*it)[4].str();
        } else if (!label.empty() && !has_section(checker.parsed(doc), label)) {
          problem = "a missing section " + label;
        }
        if (!problem.empty()) {
          problems.push_back(fs::relative(file, root).string() + ":" + std::to_string(number) +
                             ": docs/" + (*it)[2].str() + " cites " + problem);
        }
      }
    }
  }
  return problems;
}

const fs::path kSourceDir = ATTNSIM_SOURCE_DIR;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("heading anchors are slugged as GitHub does", "[docs]") {
  CHECK(github_slug("0.2 Dense attention") == "02-dense-attention");
  CHECK(github_slug("A1-A3 mha, mqa, gqa") == "a1-a3-mha-mqa-gqa");
  CHECK(github_slug("1.3 split_kv") == "13-split_kv");
  CHECK(github_slug("9. This project's `own` kernels") == "9-this-projects-own-kernels");
  const MarkdownFile md = parse_markdown("# Title\n```sh\n# not a heading\n```\n## Title\n");
  CHECK(md.anchors == std::set<std::string>{"title", "title-1"});
}

TEST_CASE("a missing file, a missing heading and a bad section are reported with file and line",
          "[docs]") {
  const test_support::TempDir dir;
  // "docs/" in pieces, so that the repository-wide citation check does not read these fixtures.
  const std::string d = std::string("do") + "cs/";
  const std::string section = "\xC2\xA7";
  write(dir.path() / "README.md",
        "# Top\n[ok](" + d + "a.md#second-part) [self](#top) [web](https://example.com/x.md)\n" +
            "`[code](missing.md)`\n[gone](" + d + "missing.md)\n[bad anchor](" + d +
            "a.md#third)\n");
  write(dir.path() / d / "a.md", "# A\n## Second part\n### B1 mla\n[up](../README.md#top)\n");
  write(dir.path() / "src/x.cpp", "// " + d + "a.md#second-part, " + d + "a.md#nope, " + d +
                                      "a.md " + section + "B1, " + d + "a.md " + section +
                                      "B2\n// github.com/x/y/" + d + "20250422-notes.md\n");
  const std::vector<std::string> links = Checker(dir.path()).broken_links();
  REQUIRE(links.size() == 2);
  CHECK(links[0] == "README.md:4: link '" + d + "missing.md' names a missing file");
  CHECK(links[1] == "README.md:5: link '" + d + "a.md#third' names a missing heading");
  const std::vector<std::string> citations = broken_citations(dir.path());
  // Markdown files are read as text too: their broken links are citations as well.
  REQUIRE(citations.size() == 4);
  CHECK(citations[0] == "README.md:4: " + d + "missing.md cites a missing document");
  CHECK(citations[1] == "README.md:5: " + d + "a.md cites a missing heading #third");
  CHECK(citations[2] == "src/x.cpp:1: " + d + "a.md cites a missing heading #nope");
  CHECK(citations[3] == "src/x.cpp:1: " + d + "a.md cites a missing section B2");
}

TEST_CASE("every relative link in the repository's Markdown files resolves", "[docs]") {
  Checker checker(kSourceDir);
  REQUIRE(markdown_files(kSourceDir).size() >= 6);  // README and docs/ at least
  for (const std::string& problem : checker.broken_links()) FAIL_CHECK(problem);
}

TEST_CASE("every docs/ anchor and section that sources, profiles and tests cite exists", "[docs]") {
  for (const std::string& problem : broken_citations(kSourceDir)) FAIL_CHECK(problem);
}

TEST_CASE("no file in the repository points at the shared notes outside it", "[docs]") {
  // Built from pieces so that this file does not match itself.
  const std::vector<std::string> needles = {
      std::string("..") + "/shared/", std::string("reference") + "/variants.md",
      std::string("reference") + "/kernels.md", std::string("reference") + "/hardware.md",
      std::string("DESIGN") + ".md"};
  for (const fs::path& file : text_files(kSourceDir)) {
    std::istringstream lines(read_file(file));
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
      for (const std::string& needle : needles) {
        if (line.find(needle) != std::string::npos) {
          FAIL_CHECK(fs::relative(file, kSourceDir).string() + ":" + std::to_string(number) +
                     ": cites " + needle + ", which is not in the repository");
        }
      }
    }
  }
}
