#include "hwprofiles/json_text.hpp"

#include <set>
#include <vector>

#include "hwprofiles/profile.hpp"

namespace hw {

namespace {

using Event = nlohmann::json::parse_event_t;

// Follows the parser's events to know the JSON pointer of the value being read.
class PointerTracker {
 public:
  explicit PointerTracker(const std::string& origin) : origin_(origin) {}

  bool on_event(Event event, const nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        count_element();
        stack_.emplace_back();
        stack_.back().array = event == Event::array_start;
        break;
      case Event::key: {
        Frame& top = stack_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          throw ProfileError(origin_, pointer(), "duplicate key '" + top.key + "'");
        }
        break;
      }
      case Event::object_end:
      case Event::array_end:
        stack_.pop_back();
        break;
      case Event::value:
        count_element();
        break;
    }
    return true;
  }

  // The pointer of the value being read now (the next element of an array).
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      const bool last = i + 1 == stack_.size();
      out += '/';
      out += f.array ? std::to_string(last ? f.elements : f.elements - 1) : escaped(f.key);
    }
    return out;
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t elements = 0;    // array: elements started so far
    std::string key;             // object: the current key
    std::set<std::string> keys;  // object: the keys seen so far
  };

  void count_element() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().elements;
  }
  static std::string escaped(const std::string& key) {  // RFC 6901: ~ -> ~0, / -> ~1
    std::string out;
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
  }

  const std::string& origin_;
  std::vector<Frame> stack_;
};

}  // namespace

nlohmann::json parse_json_strictly(const std::string& text, const std::string& origin) {
  PointerTracker tracker(origin);
  try {
    return nlohmann::json::parse(text, [&tracker](int, Event event, nlohmann::json& parsed) {
      return tracker.on_event(event, parsed);
    });
  } catch (const nlohmann::json::out_of_range& e) {
    // 406: "number overflow parsing '1e999'"; the pointer is the value being read.
    std::string what = e.what();
    const std::size_t quote = what.find('\'');
    const std::string number = quote == std::string::npos ? "the number" : what.substr(quote);
    throw ProfileError(origin, tracker.pointer(),
                       "number out of range: " + number + " is larger than a double can hold");
  } catch (const nlohmann::json::exception& e) {
    throw ProfileError(origin + ": malformed JSON: " + e.what());
  }
}

}  // namespace hw
