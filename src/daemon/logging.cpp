#include "daemon/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon/log_format.hpp"

namespace haul::daemon {

Result<void> setup_logging(const std::filesystem::path& log_dir, bool console, bool json) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec)
    return fail(ErrorCode::kIo,
                "cannot create log directory " + log_dir.string() + ": " + ec.message());
  std::vector<spdlog::sink_ptr> sinks;
  try {
    sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        (log_dir / "downloads.log").string(), 10u << 20, 5));
  } catch (const spdlog::spdlog_ex& e) {
    return fail(ErrorCode::kIo, std::string("cannot open the log file: ") + e.what());
  }
  if (console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("haul", sinks.begin(), sinks.end());
  if (json) {
    logger->set_formatter(make_json_formatter());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace haul::daemon
