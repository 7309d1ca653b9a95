// A small XML reader for the SVG the plots write: checks well-formedness (one root, tags that
// nest and close, quoted attributes, known entity references, no stray '<' or '&') and returns the
// elements, so tests can look up the series, labels and coordinates.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_support {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // the text directly inside, entities decoded
  std::vector<std::unique_ptr<XmlElement>> children;

  std::string attr(const std::string& key) const {
    const auto it = attrs.find(key);
    return it == attrs.end() ? std::string() : it->second;
  }
  double number(const std::string& key) const { return std::strtod(attr(key).c_str(), nullptr); }
  // Every descendant (and this element) with `name` (any name when empty) and, when `cls` is not
  // empty, class="cls".
  void find_all(const std::string& tag, const std::string& cls,
                std::vector<const XmlElement*>& out) const {
    if ((tag.empty() || name == tag) && (cls.empty() || attr("class") == cls)) out.push_back(this);
    for (const auto& c : children) c->find_all(tag, cls, out);
  }
  std::vector<const XmlElement*> all(const std::string& tag, const std::string& cls = "") const {
    std::vector<const XmlElement*> out;
    find_all(tag, cls, out);
    return out;
  }
};

class XmlReader {
 public:
  explicit XmlReader(const std::string& text) : s_(text) {}

  // Throws std::runtime_error with the offset of the first problem.
  std::unique_ptr<XmlElement> parse() {
    skip_prolog();
    auto root = element();
    skip_space_and_comments();
    if (i_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  const std::string& s_;
  std::size_t i_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML: " + what + " at offset " + std::to_string(i_));
  }
  bool starts(const char* p) const {
    return s_.compare(i_, std::char_traits<char>::length(p), p) == 0;
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void skip_space_and_comments() {
    skip_space();
    while (starts("<!--")) {
      const auto end = s_.find("-->", i_);
      if (end == std::string::npos) fail("unterminated comment");
      i_ = end + 3;
      skip_space();
    }
  }
  void skip_prolog() {
    if (starts("<?xml")) {
      const auto end = s_.find("?>", i_);
      if (end == std::string::npos) fail("unterminated XML declaration");
      i_ = end + 2;
    }
    skip_space_and_comments();
  }
  std::string name() {
    const std::size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '_' || s_[i_] == ':' || s_[i_] == '.')) {
      ++i_;
    }
    if (i_ == start) fail("expected a name");
    return s_.substr(start, i_ - start);
  }
  // Decodes text up to `stop`, rejecting '<' and bare '&'.
  std::string decoded(char stop) {
    std::string out;
    while (i_ < s_.size() && s_[i_] != stop) {
      const char c = s_[i_];
      if (c == '<') fail("'<' in text or an attribute");
      if (c == '&') {
        static const std::pair<const char*, char> entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool known = false;
        for (const auto& [entity, ch] : entities) {
          if (starts(entity)) {
            out += ch;
            i_ += std::char_traits<char>::length(entity);
            known = true;
            break;
          }
        }
        if (!known) fail("an unknown or bare '&'");
        continue;
      }
      out += c;
      ++i_;
    }
    return out;
  }
  std::unique_ptr<XmlElement> element() {
    if (i_ >= s_.size() || s_[i_] != '<') fail("expected '<'");
    ++i_;
    auto e = std::make_unique<XmlElement>();
    e->name = name();
    while (true) {
      skip_space();
      if (starts("/>")) {
        i_ += 2;
        return e;
      }
      if (starts(">")) {
        ++i_;
        break;
      }
      const std::string key = name();
      skip_space();
      if (!starts("=")) fail("attribute without '='");
      ++i_;
      skip_space();
      if (!starts("\"")) fail("unquoted attribute");
      ++i_;
      std::string value = decoded('"');
      if (i_ >= s_.size()) fail("unterminated attribute");
      ++i_;
      if (!e->attrs.emplace(key, value).second) fail("duplicate attribute " + key);
    }
    while (true) {
      e->text += decoded('<');
      if (i_ >= s_.size()) fail("unclosed <" + e->name + ">");
      if (starts("<!--")) {
        skip_space_and_comments();
        continue;
      }
      if (starts("</")) {
        i_ += 2;
        if (name() != e->name) fail("mismatched closing tag for <" + e->name + ">");
        skip_space();
        if (!starts(">")) fail("expected '>'");
        ++i_;
        return e;
      }
      e->children.push_back(element());
    }
  }
};

inline std::unique_ptr<XmlElement> parse_xml(const std::string& text) {
  return XmlReader(text).parse();
}

// The text of every <text> element of class `cls`, in document order.
inline std::vector<std::string> texts(const XmlElement& root, const std::string& cls) {
  std::vector<std::string> out;
  for (const XmlElement* e : root.all("text", cls)) out.push_back(e->text);
  return out;
}

// A chart's subtitle: its lines joined (a long one is broken after its separators).
inline std::string subtitle(const XmlElement& root) {
  std::string out;
  for (const std::string& line : texts(root, "subtitle")) out += line;
  return out;
}

inline bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace test_support
