#include "store/schema_version.hpp"

#include <chrono>

namespace haul::store {

std::int64_t migration_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error newer_schema(const std::string& database, std::int64_t found) {
  return Error{ErrorCode::kInternal, "cannot open database " + database + ": its schema version " +
                                         std::to_string(found) + " is newer than this haul's (" +
                                         std::to_string(kSchemaVersion) + ")"};
}

}  // namespace haul::store
