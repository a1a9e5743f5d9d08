#include "daemon/log_format.hpp"

#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/error_context.hpp"

namespace haul::daemon {

namespace {

// "job <id>: rest" -> id and rest; "item <n>: rest" likewise after it.
bool take_prefix(std::string_view& text, std::string_view word, std::string& value) {
  if (!text.starts_with(word) || text.size() <= word.size() || text[word.size()] != ' ')
    return false;
  const std::size_t colon = text.find(": ", word.size() + 1);
  if (colon == std::string_view::npos) return false;
  const std::string_view candidate = text.substr(word.size() + 1, colon - word.size() - 1);
  if (candidate.empty() || candidate.find(' ') != std::string_view::npos) return false;
  value = std::string(candidate);
  text.remove_prefix(colon + 2);
  return true;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto time = std::chrono::system_clock::to_time_t(msg.time);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&time, &utc);
    char stamp[40];
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        json_log_line(stamp, std::string_view(level.data(), level.size()),
                      std::string_view(msg.payload.data(), msg.payload.size())) +
        "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::string json_log_line(std::string_view time, std::string_view level, std::string_view text) {
  nlohmann::ordered_json line;
  line["time"] = time;
  line["level"] = level;
  std::string job;
  std::string item;
  if (take_prefix(text, "job", job)) {
    line["job"] = job;
    if (take_prefix(text, "item", item)) line["item"] = item;
  }
  if (auto described = core::read_described(text)) {
    for (const auto& [key, value] : described->fields) {
      if (key == "attempt") {
        line[key] = std::atoi(value.c_str());
      } else {
        line[key] = value;
      }
    }
    line["message"] = described->message;
  } else {
    line["message"] = text;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  return std::make_unique<JsonFormatter>();
}

}  // namespace haul::daemon
