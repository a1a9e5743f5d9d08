// Sync progress files: see progress_files.hpp.
#include "api/progress_files.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "api/model_progress.hpp"
#include "base/files.hpp"

namespace haul::api {

namespace asio = boost::asio;
namespace fs = std::filesystem;

ProgressFiles::ProgressFiles(const asio::any_io_executor& control, asio::any_io_executor io,
                             scheduler::Scheduler& scheduler, scheduler::EventBus& bus)
    : io_(std::move(io)), scheduler_(scheduler), bus_(bus), timer_(control) {
  handle_ = bus_.subscribe([this](const core::Event& event) { on_event(event); });
}

ProgressFiles::~ProgressFiles() { bus_.unsubscribe(handle_); }

void ProgressFiles::follow(const fs::path& file, const std::vector<std::string>& job_ids) {
  Followed& followed = files_[file];
  followed.jobs.insert(job_ids.begin(), job_ids.end());
  followed.dirty = true;
  flush();  // the first write at once: the caller answers with the file's name
}

void ProgressFiles::on_event(const core::Event& event) {
  for (auto& [file, followed] : files_) {
    if (followed.jobs.count(event.job.id) != 0) followed.dirty = true;
  }
  arm();
}

void ProgressFiles::arm() {
  if (armed_ || files_.empty()) return;
  armed_ = true;
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](const boost::system::error_code& error) {
    armed_ = false;
    if (!error) flush();
  });
}

void ProgressFiles::flush() {
  const auto now = core::Clock::now();
  for (auto it = files_.begin(); it != files_.end();) {
    Followed& followed = it->second;
    bool finished = true;
    std::vector<const core::Job*> jobs;
    for (const std::string& id : followed.jobs) {
      const core::Job* job = scheduler_.find(id);
      if (job == nullptr) continue;
      jobs.push_back(job);
      finished = finished && core::is_finished(job->state);
    }
    if (followed.dirty) {
      ProgressFilter filter;
      filter.job_ids = std::vector<std::string>(followed.jobs.begin(), followed.jobs.end());
      std::string text = model_progress(jobs, filter, now).dump(2) + "\n";
      asio::post(io_, [file = it->first, text = std::move(text)] {
        if (auto written = write_file_atomically(file, text); !written)
          spdlog::warn("progress file: {}", written.error().message);
      });
      followed.dirty = false;
    }
    it = finished ? files_.erase(it) : std::next(it);
  }
}

}  // namespace haul::api
