// Source resolution off the control thread: hf, CivitAI and S3 sources
// resolve into Plans by API calls that block (seconds, at worst), so they run
// on a small pool and their answers are posted back. Shared by the local and
// the remote-fetch runners.
//
// Threading: resolve() is called on the control thread; `done` runs there
// (through `post`), never after the pool was destroyed.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "sources/plan.hpp"
#include "sources/resolve.hpp"

namespace haul::runners {

class ResolverPool {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Resolve =
      std::function<Result<sources::Plan>(const std::string&, const sources::ResolveOptions&)>;

  // `resolve` defaults to sources::resolve_source (tests pass their own).
  explicit ResolverPool(Post post, Resolve resolve = {}, int threads = 2);
  // Waits for running resolutions; their answers are dropped.
  ~ResolverPool();
  ResolverPool(const ResolverPool&) = delete;
  ResolverPool& operator=(const ResolverPool&) = delete;

  void resolve(std::string source, sources::ResolveOptions options,
               std::function<void(Result<sources::Plan>)> done);

 private:
  Post post_;
  Resolve resolve_;
  boost::asio::thread_pool pool_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // control thread only
};

}  // namespace haul::runners
