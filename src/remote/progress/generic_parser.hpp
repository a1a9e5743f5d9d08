// The parser for commands we know nothing about: every non-empty line becomes
// a kMessage (the latest is the command's status) and a line holding "NN%"
// also becomes a kProgress with that percent, so an unknown tool still shows
// that it runs and, often, how far it got.
#pragma once

#include <string_view>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

class GenericParser final : public LineParser {
 public:
  std::string_view tool() const override { return "generic"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;
};

}  // namespace haul::remote::progress
