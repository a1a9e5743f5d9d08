// Fixture for engine integration tests: a test HTTP server, a scratch
// directory and an engine tuned for small files (small pieces, frequent
// checkpoints, fast retries).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"
#include "support/test_http_server.hpp"

namespace haul::testing {

class EngineTest : public ::testing::Test {
 protected:
  static transfer::EngineOptions test_options() {
    transfer::EngineOptions options;
    options.min_piece = 256u << 10;
    options.buffer_size = 256u << 10;
    options.checkpoint_interval = std::chrono::milliseconds(100);
    options.progress_interval = std::chrono::milliseconds(50);
    return options;
  }

  transfer::TransferRequest request_for(std::string_view path,
                                        std::string_view host = "127.0.0.1") {
    transfer::TransferRequest request;
    request.url = server.url(path, host);
    request.output_dir = dir.path();
    request.retry = fast_retries();
    return request;
  }

  // Adds `body` at `path` with the given resource settings.
  Resource file(std::string body) {
    Resource resource;
    resource.body = std::move(body);
    return resource;
  }

  EngineHarness& engine() {
    if (!harness_) harness_ = std::make_unique<EngineHarness>(options);
    return *harness_;
  }

  transfer::EngineOptions options = test_options();
  TestHttpServer server;
  TempDir dir;

 private:
  std::unique_ptr<EngineHarness> harness_;
};

}  // namespace haul::testing
