#include "models/json_text.hpp"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace models {

namespace {

using Json = nlohmann::json;
using Event = Json::parse_event_t;

// The keys seen in each object being read, and the key (or array index) leading to each.
class RepeatedKeyCheck {
 public:
  explicit RepeatedKeyCheck(const std::string& source) : source_(source) {}

  bool on_event(Event event, const Json& parsed) {
    if (event == Event::object_start || event == Event::array_start) {
      step_into_element();
      frames_.push_back({event == Event::array_start, 0, "", {}});
    } else if (event == Event::object_end || event == Event::array_end) {
      frames_.pop_back();
    } else if (event == Event::key) {
      Frame& top = frames_.back();
      top.key = parsed.get<std::string>();
      if (!top.keys.insert(top.key).second) {
        const std::string where = pointer();
        throw common::SpecError(fmt::format("{}: key '{}' is given twice{}; give it once", source_,
                                            top.key, where.empty() ? "" : " (in " + where + ")"));
      }
    } else if (event == Event::value) {
      step_into_element();
    }
    return true;
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t elements = 0;  // array: elements started so far
    std::string key;           // object: the current key
    std::set<std::string> keys;
  };

  void step_into_element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().elements;
  }
  // The JSON pointer of the innermost object (all frames but the last lead to it).
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      out += '/';
      out += frames_[i].array ? std::to_string(frames_[i].elements - 1) : frames_[i].key;
    }
    return out;
  }

  const std::string& source_;
  std::vector<Frame> frames_;
};

}  // namespace

Json parse_json_refusing_repeats(const std::string& text, const std::string& source) {
  RepeatedKeyCheck check(source);
  try {
    return Json::parse(
        text, [&check](int, Event event, Json& parsed) { return check.on_event(event, parsed); });
  } catch (const Json::out_of_range& e) {
    // nlohmann's 406 "number overflow parsing '1e999'": beyond DBL_MAX (about 1.8e308, IEEE 754
    // binary64). Without this it escaped as a runtime failure naming no file.
    const std::string what = e.what();
    const std::size_t open = what.find('\''), close = what.rfind('\'');
    const std::string number =
        open < close ? "number " + what.substr(open + 1, close - open - 1) : "a number";
    throw common::SpecError(fmt::format(
        "{}: not valid JSON: {} is out of range (beyond about 1.8e308)", source, number));
  } catch (const Json::parse_error& e) {
    throw common::SpecError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
}

}  // namespace models
