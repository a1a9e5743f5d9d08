#include "core/error_context.hpp"

#include <algorithm>

namespace haul::core {

namespace {

std::string file_of(const Item& item) {
  if (!item.extras->resource.empty()) return item.extras->resource;
  const std::string& where = item.path.empty() ? item.source : item.path;
  const std::size_t slash = where.find_last_of('/');
  std::string name = slash == std::string::npos ? where : where.substr(slash + 1);
  if (const std::size_t query = name.find('?'); query != std::string::npos) name.resize(query);
  return name.empty() ? where : name;
}

std::string stage_of(const Job& job, std::size_t index, std::string_view code) {
  const Item& item = job.items[index];
  if (job.target != "local") {
    return "command " + std::to_string(index + 1) + " of " + std::to_string(job.items.size());
  }
  if (code == "data_loss") return "verify";
  if (code == "no_space" || code == "io")
    return item.size && item.bytes_done >= *item.size ? "finalize" : "transfer";
  return item.bytes_done > 0 ? "transfer" : "connect";
}

std::string clean(std::string value) {
  std::replace(value.begin(), value.end(), ']', ')');
  std::replace(value.begin(), value.end(), '\n', ' ');
  return value;
}

}  // namespace

JobError item_error(const Job& job, std::size_t index, std::string code, std::string message) {
  JobError error{std::move(code), std::move(message)};
  if (index < job.items.size()) {
    error.file = file_of(job.items[index]);
    error.stage = stage_of(job, index, error.code);
  }
  error.attempt = job.attempts;
  return error;
}

JobError job_error(const Job& job, std::string code, std::string message) {
  for (std::size_t i = 0; i < job.items.size(); ++i) {
    if (job.items[i].state == ItemState::kFailed && job.items[i].error) {
      JobError error = *job.items[i].error;
      error.code = std::move(code);
      error.message = std::move(message);
      error.attempt = job.attempts;
      return error;
    }
  }
  JobError error{std::move(code), std::move(message)};
  error.attempt = job.attempts;
  const bool planned = std::any_of(job.items.begin(), job.items.end(),
                                   [](const Item& item) { return !item.path.empty(); });
  if (job.target != "local") {
    error.stage = "connect";
  } else if (!planned) {
    error.stage = "resolve";
  }
  if (job.items.size() == 1) error.file = file_of(job.items.front());
  return error;
}

std::string describe(const JobError& error) {
  std::string fields;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    fields += (fields.empty() ? "" : " ") + std::string(key) + "=" + clean(value);
  };
  add("stage", error.stage);
  add("file", error.file);
  add("attempt", error.attempt > 0 ? std::to_string(error.attempt) : "");
  add("code", error.code);
  if (fields.empty()) return error.message;
  return error.message + " [" + fields + "]";
}

std::optional<DescribedFields> read_described(std::string_view text) {
  if (!text.ends_with(']')) return std::nullopt;
  const std::size_t open = text.rfind(" [");
  if (open == std::string_view::npos) return std::nullopt;
  DescribedFields out;
  out.message = std::string(text.substr(0, open));
  std::string_view rest = text.substr(open + 2, text.size() - open - 3);
  // Keys are single words; a value runs to the next " key=".
  static constexpr std::string_view kKeys[] = {"stage", "file", "attempt", "code"};
  std::string key;
  while (!rest.empty()) {
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    key = std::string(rest.substr(0, eq));
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) return std::nullopt;
    rest.remove_prefix(eq + 1);
    std::size_t end = rest.size();
    for (std::string_view next : kKeys) {
      const std::size_t at = rest.find(" " + std::string(next) + "=");
      if (at != std::string_view::npos) end = std::min(end, at);
    }
    out.fields[key] = std::string(rest.substr(0, end));
    rest.remove_prefix(std::min(rest.size(), end + 1));
  }
  return out;
}

}  // namespace haul::core
