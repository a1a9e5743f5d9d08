// What kind of failure a failed command on an instance is, from the reason
// its tool gave ("ERROR 404: Not Found.", "The requested URL returned error:
// 403"): a refusal that cannot change by waiting (kNotFound,
// kPermissionDenied) or anything else (kCommandFailed, retried like other
// transient errors). Pure.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace haul::remote {

ErrorCode command_failure_code(std::string_view reason);

}  // namespace haul::remote
