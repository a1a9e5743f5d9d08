// Classification of SSH connect failures from libssh's messages.
#include "remote/ssh_errors.hpp"

#include <gtest/gtest.h>

namespace haul::remote {
namespace {

using namespace std::chrono_literals;

Error classify(std::string_view message) {
  return connect_failure(message, "root@gpu.example:2222", "gpu.example", 15s);
}

TEST(ConnectFailure, ARefusedOrSilentServerIsTransient) {
  Error e = classify("Connection refused");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.message, "ssh to root@gpu.example:2222: connection refused");
  e = classify("Timeout connecting to 10.0.0.1");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.message, "ssh to root@gpu.example:2222: timed out after 15 s");
  EXPECT_EQ(classify("Socket error: No route to host").code, ErrorCode::kUnavailable);
  EXPECT_EQ(classify("").message, "ssh to root@gpu.example:2222: no details from libssh");
}

TEST(ConnectFailure, AHostNameThatDoesNotExistIsPermanentAndNamed) {
  for (const char* message :
       {"Failed to resolve hostname gpu.example (Name or service not known)",
        "Failed to resolve hostname gpu.example (No address associated with hostname)"}) {
    const Error e = classify(message);
    EXPECT_EQ(e.code, ErrorCode::kNotFound) << message;
    EXPECT_NE(e.message.find("the host name 'gpu.example' does not resolve"), std::string::npos)
        << e.message;
    EXPECT_EQ(e.message.find('\n'), std::string::npos);
  }
}

TEST(ConnectFailure, AResolverThatCannotAnswerNowIsTransient) {
  for (const char* message :
       {"Failed to resolve hostname gpu.example (Temporary failure in name resolution)",
        "Failed to resolve hostname gpu.example (Non-recoverable failure in name resolution)"}) {
    const Error e = classify(message);
    EXPECT_EQ(e.code, ErrorCode::kUnavailable) << message;
    EXPECT_NE(e.message.find("cannot resolve the host name 'gpu.example' for now"),
              std::string::npos)
        << e.message;
  }
}

}  // namespace
}  // namespace haul::remote
