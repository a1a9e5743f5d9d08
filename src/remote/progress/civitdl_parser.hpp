// Reads civitdl 2.x output (colours stripped): the `Now downloading
// "NAME"...` and `Download completed for "NAME"` blocks, the tqdm bars
// "Images" (a count of files) and "Model" (bytes, 1000-based), the cache
// messages, and the failure blocks: between "---------" lines civitdl prints,
// to stderr, "InputException (Bad Inputs):" or "APIException (API Status
// Code 403):" followed by the message indented 9 spaces, then "Retrying to
// download the current model..." or "Max retry of 3 reached. Skipping the
// current model...". civitdl exits 0 even when a model failed, so kError is
// how a failure shows.
//
// Reports: kStageStart (stage "", name) at "Now downloading"; kProgress with
// stage "images" (percent, elapsed, remaining; message "2/3 images") or
// "model" (percent, downloaded, total, speed, elapsed, remaining);
// kStageComplete (stage "", name) at "Download completed for"; kError with
// the exception text ("APIException (API Status Code 403): Downloading model
// from CivitAI failed for model id, 1, and version id, 2") and at "Max retry
// of N reached"; kMessage (stage "cache", "images" or "") for the rest.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "remote/progress/line_splitter.hpp"

namespace haul::remote::progress {

class CivitdlParser final : public LineParser {
 public:
  std::string_view tool() const override { return "civitdl"; }

 protected:
  void on_line(const Line& line, std::vector<ProgressUpdate>& out) override;
  void on_finish(std::vector<ProgressUpdate>& out) override;
  bool frame_complete(std::string_view pending) const override;

 private:
  bool exception_line(const Line& line, std::vector<ProgressUpdate>& out);
  bool bar(const Line& line, std::vector<ProgressUpdate>& out);
  void flush_exception(std::vector<ProgressUpdate>& out);
  void flush_block(std::vector<ProgressUpdate>& out);
  void emit(ProgressUpdate::Kind kind, std::string_view stage, std::string_view message,
            std::vector<ProgressUpdate>& out) const;

  std::string model_;      // the model being downloaded
  std::string exception_;  // "APIException (...): message" being collected
  bool in_block_ = false;  // between the two "---------" of a failure
  bool block_had_exception_ = false;
  std::string block_text_;  // other text in the block (an unexpected exception)
};

}  // namespace haul::remote::progress
