#include "runners/resolver_pool.hpp"

#include <boost/asio/post.hpp>

namespace haul::runners {

ResolverPool::ResolverPool(Post post, Resolve resolve, int threads)
    : post_(std::move(post)),
      resolve_(resolve
                   ? std::move(resolve)
                   : Resolve([](const std::string& source, const sources::ResolveOptions& options) {
                       return sources::resolve_source(source, options);
                     })),
      pool_(static_cast<std::size_t>(threads)) {}

ResolverPool::~ResolverPool() {
  *alive_ = false;
  pool_.join();
}

void ResolverPool::resolve(std::string source, sources::ResolveOptions options,
                           std::function<void(Result<sources::Plan>)> done) {
  boost::asio::post(pool_, [this, alive = alive_, source = std::move(source),
                            options = std::move(options), done = std::move(done)]() mutable {
    auto plan = resolve_(source, options);
    // `alive` is read on the control thread only: the pool may be gone by then.
    post_([alive, plan = std::move(plan), done = std::move(done)]() mutable {
      if (*alive) done(std::move(plan));
    });
  });
}

}  // namespace haul::runners
