#include "remote/progress/progress_parser.hpp"

#include "remote/progress/aria2c_parser.hpp"
#include "remote/progress/civitdl_parser.hpp"
#include "remote/progress/curl_parser.hpp"
#include "remote/progress/generic_parser.hpp"
#include "remote/progress/tqdm_parser.hpp"
#include "remote/progress/wget_parser.hpp"

namespace haul::remote::progress {

ProgressParser::~ProgressParser() = default;

std::unique_ptr<ProgressParser> make_parser(const CommandTool& tool) {
  switch (tool.tool) {
    case Tool::kWget:
      return std::make_unique<WgetParser>(tool.output_name);
    case Tool::kCurl:
      return std::make_unique<CurlParser>(tool.output_name);
    case Tool::kAria2c:
      return std::make_unique<Aria2cParser>(tool.output_name);
    case Tool::kTqdm:
      return std::make_unique<TqdmParser>();
    case Tool::kCivitdl:
      return std::make_unique<CivitdlParser>();
    case Tool::kGeneric:
      break;
  }
  return std::make_unique<GenericParser>();
}

std::unique_ptr<ProgressParser> parser_for_command(std::string_view shell_command) {
  return make_parser(detect_tool(shell_command));
}

}  // namespace haul::remote::progress
