// The resolvers of each provider, called by resolve_source() after
// classify_source() picked them. Internal to src/sources.
#pragma once

#include <string_view>

#include "base/error.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"

namespace haul::sources {

// hf/hf_resolver.cpp
Result<void> check_hf_source(std::string_view source, const ResolveOptions& options);
Result<Plan> resolve_hf(std::string_view source, const ResolveOptions& options);
// civitai/civitai_resolver.cpp
Result<void> check_civitai_source(std::string_view source);
Result<Plan> resolve_civitai(std::string_view source, const ResolveOptions& options);
// s3/s3_resolver.cpp
Result<void> check_s3_source(std::string_view source);
Result<Plan> resolve_s3(std::string_view source, const ResolveOptions& options);

}  // namespace haul::sources
