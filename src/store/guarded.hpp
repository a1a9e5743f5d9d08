// Keeps exceptions (bad_alloc, mostly) from crossing the JobStore interface:
// the stores run their bodies through guarded(), which turns anything thrown
// into a kInternal error naming what was being done.
//
// Threading: a plain function; runs `body` on the calling thread.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace haul::store {

// Returns body()'s result (a Result<T>), or kInternal "<what>: <exception>".
template <class F>
auto guarded(std::string_view what, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInternal, std::string(what) + ": " + e.what());
  } catch (...) {
    return fail(ErrorCode::kInternal, std::string(what) + ": unknown exception");
  }
}

}  // namespace haul::store
