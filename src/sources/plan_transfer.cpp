#include "sources/plan_transfer.hpp"

#include <unistd.h>

#include <fstream>
#include <system_error>
#include <vector>

#include "base/files.hpp"
#include "base/text.hpp"

namespace haul::sources {

namespace fs = std::filesystem;

Result<transfer::TransferRequest> transfer_request_for(const PlannedFile& file,
                                                       const fs::path& destination) {
  transfer::TransferRequest request;
  request.url = file.fetch.url;
  request.headers = file.fetch.headers;
  request.if_match = file.fetch.if_match;
  if (file.fetch.aws) {
    request.aws_sigv4 = file.fetch.aws->provider;
    request.aws_credentials = file.fetch.aws->access_key + ":" + file.fetch.aws->secret_key;
  }
  if (!file.sha256.empty()) request.sha256 = file.sha256;
  // Small Hub files have a git blob id instead: the engine checks it too.
  if (file.sha256.empty() && !file.present) request.git_blob_sha1 = file.git_sha1;
  if (file.relative_path.empty()) {
    request.output_dir = destination;
  } else {
    if (!is_safe_relative_path(file.relative_path)) {
      return fail(ErrorCode::kPermissionDenied, "refusing file path '" + file.relative_path +
                                                    "': it would leave " + destination.string());
    }
    request.output_file = destination / file.relative_path;
  }
  return request;
}

Result<void> write_sidecars(const Plan& plan, const fs::path& destination) {
  for (const Sidecar& sidecar : plan.sidecars) {
    if (!is_safe_relative_path(sidecar.relative_path)) {
      return fail(ErrorCode::kPermissionDenied,
                  "refusing sidecar path '" + sidecar.relative_path + "'");
    }
    const fs::path target = destination / sidecar.relative_path;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (auto written = write_file_atomically(target, sidecar.content); !written)
      return fail(written.error());
  }
  return {};
}

Result<void> finish_planned_file(const PlannedFile& file, const fs::path& destination) {
  if (file.link_path.empty()) return {};
  if (!is_safe_relative_path(file.link_path))
    return fail(ErrorCode::kPermissionDenied, "refusing link path '" + file.link_path + "'");
  const fs::path link = destination / file.link_path;
  const fs::path temp = link.string() + ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  fs::create_directories(link.parent_path(), ec);
  fs::remove(temp, ec);
  fs::create_symlink(file.link_target, temp, ec);
  if (!ec) fs::rename(temp, link, ec);  // replaces an older link atomically
  if (ec) {
    const std::string why = ec.message();
    fs::remove(temp, ec);
    return fail(ErrorCode::kIo, "cannot link " + link.string() + ": " + why);
  }
  return {};
}

}  // namespace haul::sources
