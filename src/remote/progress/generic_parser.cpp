#include "remote/progress/generic_parser.hpp"

#include "remote/progress/text_fields.hpp"

namespace haul::remote::progress {

void GenericParser::on_line(const Line& line, std::vector<ProgressUpdate>& out) {
  std::string message = clean_message(line.text);
  if (message.empty()) return;
  if (const auto percent = find_percent(line.text)) {
    ProgressUpdate update = make_update(ProgressUpdate::Kind::kProgress, "run", "");
    update.percent = percent;
    tidy(update);
    out.push_back(std::move(update));
  }
  ProgressUpdate update = make_update(ProgressUpdate::Kind::kMessage, "run", "");
  update.message = std::move(message);
  out.push_back(std::move(update));
}

}  // namespace haul::remote::progress
