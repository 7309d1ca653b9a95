#include "common/json_events.hpp"

#include <set>
#include <vector>

#include "common/errors.hpp"

namespace common {

namespace {

using Json = nlohmann::json;
using Event = Json::parse_event_t;

// The objects and arrays being read, each with its key or element count so far.
class Tracker {
 public:
  Tracker(const std::function<void(const JsonFault&)>& fail,
          const std::function<std::string(int, std::string)>& same_key)
      : fail_(fail), same_key_(same_key) {}

  bool on_event(Event event, const Json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        count_element();
        stack_.push_back({event == Event::array_start, 0, "", {}});
        break;
      case Event::key: {
        Frame& top = stack_.back();
        top.key = parsed.get<std::string>();
        const int depth = static_cast<int>(stack_.size());
        std::string compared = same_key_ ? same_key_(depth, top.key) : top.key;
        if (!top.keys.insert(compared).second) {
          JsonFault f;
          f.kind = JsonFault::Kind::repeated_key;
          f.pointer = pointer(stack_.size());
          f.object = pointer(stack_.size() - 1);
          f.parent_key = stack_.size() > 1 && !stack_[stack_.size() - 2].array
                             ? stack_[stack_.size() - 2].key
                             : "";
          f.key = std::move(compared);
          f.depth = depth;
          raise(f);
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

  // The pointer through the first `frames` frames: the value being read when all of them.
  std::string pointer(std::size_t frames) const {
    std::string out;
    for (std::size_t i = 0; i < frames; ++i) {
      const Frame& f = stack_[i];
      const bool last = i + 1 == stack_.size();
      out += '/';
      out += f.array ? std::to_string(last ? f.elements : f.elements - 1) : escaped(f.key);
    }
    return out;
  }
  std::string pointer() const { return pointer(stack_.size()); }

  void raise(const JsonFault& f) const {
    fail_(f);
    throw SpecError("JSON: " + f.detail);  // `fail` must throw; this is its fallback
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t elements = 0;    // array: elements started so far
    std::string key;             // object: the current key
    std::set<std::string> keys;  // object: the keys seen so far (as compared)
  };

  void count_element() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().elements;
  }
  static std::string escaped(const std::string& key) {  // RFC 6901: ~ -> ~0, / -> ~1
    std::string out;
    for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    return out;
  }

  const std::function<void(const JsonFault&)>& fail_;
  const std::function<std::string(int, std::string)>& same_key_;
  std::vector<Frame> stack_;
};

}  // namespace

Json parse_json_events(const std::string& text, const std::function<void(const JsonFault&)>& fail,
                       const std::function<std::string(int, std::string)>& same_key) {
  Tracker tracker(fail, same_key);
  try {
    return Json::parse(text, [&tracker](int, Event event, Json& parsed) {
      return tracker.on_event(event, parsed);
    });
  } catch (const Json::out_of_range& e) {
    // nlohmann's 406 "number overflow parsing '1e999'": beyond DBL_MAX (about 1.8e308, IEEE 754
    // binary64); its message names no place.
    const std::string what = e.what();
    const std::size_t open = what.find('\''), close = what.rfind('\'');
    JsonFault f;
    f.kind = JsonFault::Kind::number_overflow;
    f.pointer = tracker.pointer();
    f.detail = open < close ? what.substr(open + 1, close - open - 1) : "";
    tracker.raise(f);
  } catch (const Json::exception& e) {
    JsonFault f;
    f.kind = JsonFault::Kind::malformed;
    f.detail = e.what();
    tracker.raise(f);
  }
  return {};
}

}  // namespace common
