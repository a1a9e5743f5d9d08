#include "remote/command_failure.hpp"

#include <gtest/gtest.h>

namespace haul::remote {
namespace {

TEST(CommandFailure, RefusalsThatCannotChangeAreTold) {
  EXPECT_EQ(command_failure_code("command 1 of 2 exited with status 8: ERROR 404: Not Found."),
            ErrorCode::kNotFound);
  EXPECT_EQ(command_failure_code("curl: (22) The requested URL returned error: 410"),
            ErrorCode::kNotFound);
  EXPECT_EQ(command_failure_code("exited with status 3: errorCode=3 Resource not found"),
            ErrorCode::kNotFound);
  EXPECT_EQ(command_failure_code("HTTP request sent, awaiting response... 403 Forbidden"),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(command_failure_code("(civitdl) failed: 401 Unauthorized"),
            ErrorCode::kPermissionDenied);
}

TEST(CommandFailure, EverythingElseMayPass) {
  EXPECT_EQ(command_failure_code("ERROR 503: Service Unavailable."), ErrorCode::kCommandFailed);
  EXPECT_EQ(command_failure_code("429 Too Many Requests"), ErrorCode::kCommandFailed);
  EXPECT_EQ(command_failure_code("exited with status 1"), ErrorCode::kCommandFailed);
  EXPECT_EQ(command_failure_code("wrote 14041 bytes"), ErrorCode::kCommandFailed);
  EXPECT_EQ(command_failure_code("port 4040"), ErrorCode::kCommandFailed);
  EXPECT_EQ(command_failure_code(""), ErrorCode::kCommandFailed);
}

}  // namespace
}  // namespace haul::remote
