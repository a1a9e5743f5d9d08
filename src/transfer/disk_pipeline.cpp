#include "transfer/disk_pipeline.hpp"

#include <utility>
#include <vector>

#include "base/format.hpp"

namespace haul::transfer {

namespace {
constexpr std::size_t kHashChunk = 1u << 20;

std::string directory_of(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? "." : parent.string();
}
}  // namespace

DiskPipeline::DiskPipeline(std::shared_ptr<FileSystem> fs, EventSink sink, DiskOptions options)
    : fs_(std::move(fs)),
      sink_(std::move(sink)),
      options_(options),
      hash_scratch_(new std::byte[kHashChunk]) {}

DiskPipeline::~DiskPipeline() {
  // Writes may queue hashing, hashing may queue syncing: drain in that order.
  writer_.drain();
  hasher_.drain();
  syncer_.drain();
}

void DiskPipeline::report_failure(PartFile& part, Error error) {
  {
    std::lock_guard lock(part.mutex);
    if (part.failed || part.closed) return;
    part.failed = true;
    drop_kept(part);
  }
  sink_(PartEvent{PartEvent::Kind::kFailed, part.owner, fail(std::move(error))});
}

void DiskPipeline::prepare(const std::shared_ptr<PartFile>& part, PrepareSpec spec) {
  writer_.post([this, part, spec = std::move(spec)] {
    int fd = -1;
    {
      std::lock_guard lock(part->mutex);
      if (part->closed) return;
      fd = part->fd;
      part->failed = false;
    }
    if (fd < 0) {
      if (auto made = fs_->create_directories(part->part.parent_path()); !made) {
        return report_failure(*part, made.error());
      }
      auto opened = fs_->open_rw(part->part);
      if (!opened) return report_failure(*part, opened.error());
      fd = *opened;
      // Two processes appending to one .part would interleave two downloads.
      if (auto locked = fs_->lock_exclusive(fd); !locked) {
        fs_->close(fd);
        const bool taken = locked.error().code == ErrorCode::kInvalidArgument;
        return report_failure(
            *part, Error{locked.error().code, part->part.string() + " is " +
                                                  (taken ? "being written by another haul process"
                                                         : locked.error().message)});
      }
      if (options_.direct_io) {
        // Unsupported (tmpfs, some FUSE): every write stays buffered.
        if (auto direct = fs_->open_direct(part->part)) part->direct_fd = *direct;
      }
    }
    {
      // Publish the fd and the new version before any write of it can run.
      std::lock_guard lock(part->mutex);
      part->fd = fd;
      part->epoch = spec.epoch;
      part->size = spec.size;
      part->validator = spec.validator;
      part->written = spec.done;
      part->all_written = false;
      part->hash_complete = false;
      drop_kept(*part);
    }
    if (spec.done.empty()) {
      if (auto cut = fs_->truncate(fd, 0); !cut) return report_failure(*part, cut.error());
    }
    if (!spec.size) return;
    auto stat = fs_->stat(fd);
    if (!stat) return report_failure(*part, stat.error());
    const std::uint64_t need = *spec.size > stat->allocated ? *spec.size - stat->allocated : 0;
    const std::string dir = directory_of(part->destination);
    auto space = fs_->space(part->part.parent_path());
    if (!space) return report_failure(*part, space.error());
    auto no_space = [&] {
      return Error{ErrorCode::kNoSpace, "not enough space on " + dir + ": need " +
                                            format_bytes(need) + ", have " +
                                            format_bytes(space->available)};
    };
    if (need > space->available) return report_failure(*part, no_space());
    if (auto reserved = fs_->allocate(fd, *spec.size); !reserved) {
      if (reserved.error().code == ErrorCode::kNoSpace) return report_failure(*part, no_space());
      return report_failure(*part, reserved.error());
    }
  });
}

void DiskPipeline::write(const std::shared_ptr<PartFile>& part, BufferRef buffer) {
  writer_.post([this, part, buffer = std::move(buffer)] {
    int fd = -1;
    {
      std::lock_guard lock(part->mutex);
      if (part->closed || part->failed || buffer->epoch != part->epoch) return;
      fd = part->fd;
    }
    if (write_buffer(*part, buffer, fd)) schedule_hash(part);
  });
}

Result<void> DiskPipeline::write_range(PartFile& part, int fd, const std::byte* data,
                                       std::size_t size, std::uint64_t offset, bool direct) {
  // The aligned middle goes out with O_DIRECT; an unaligned head or tail
  // (a piece boundary, a partial buffer) through the page cache.
  const std::uint64_t end = offset + size;
  const std::uint64_t middle_begin =
      (offset + kDirectAlignment - 1) / kDirectAlignment * kDirectAlignment;
  const std::uint64_t middle_end = end / kDirectAlignment * kDirectAlignment;
  if (!direct || part.direct_fd < 0 || middle_end <= middle_begin)
    return fs_->write_at(fd, data, size, offset);
  if (middle_begin > offset) {
    if (auto head = fs_->write_at(fd, data, middle_begin - offset, offset); !head) return head;
  }
  const std::byte* middle = data + (middle_begin - offset);
  auto written = fs_->write_at(part.direct_fd, middle, middle_end - middle_begin, middle_begin);
  if (!written && written.error().code == ErrorCode::kInvalidArgument) {
    // The filesystem took O_DIRECT at open but refuses the write: stay buffered.
    fs_->close(part.direct_fd);
    part.direct_fd = -1;
    written = fs_->write_at(fd, middle, middle_end - middle_begin, middle_begin);
  }
  if (!written) return written;
  if (end > middle_end)
    return fs_->write_at(fd, data + (middle_end - offset), end - middle_end, middle_end);
  return {};
}

bool DiskPipeline::write_buffer(PartFile& part, const BufferRef& buffer, int fd) {
  // A buffer the hasher will take from memory goes out with O_DIRECT. One
  // beyond the memory kept for it goes through the page cache instead, where
  // the hasher finds it later without reading the disk.
  const bool keep = reserve_hash_slot(part, *buffer);
  auto written = write_range(part, fd, buffer->data(), buffer->size, buffer->offset, keep);
  std::unique_lock lock(part.mutex);
  const bool current = written && buffer->epoch == part.epoch;
  // A failed or closed part hashes nothing more: a buffer kept for it would
  // hold its slot of the budget for good.
  const bool kept = keep && current && !part.failed && !part.closed;
  if (keep && !kept) --kept_total_;
  if (!written) {
    lock.unlock();
    Error error = written.error();
    error.message = error.code == ErrorCode::kNoSpace
                        ? "disk full on " + directory_of(part.destination) + " while writing " +
                              part.part.filename().string()
                        : error.message + " (" + part.part.string() + ")";
    report_failure(part, std::move(error));
    return false;
  }
  if (!current) return false;
  part.written.add({buffer->offset, buffer->offset + buffer->size});
  part.written_prefix = part.written.contiguous_end(0);
  if (kept) part.hash_buffers.emplace(buffer->offset, buffer);
  return true;
}

bool DiskPipeline::reserve_hash_slot(const PartFile& part, const Buffer& buffer) {
  // Only the writer adds to the count, so the budget is never overshot.
  if (buffer.offset + buffer.size <= part.hashed_mark.load()) return false;
  if (kept_total_.load() >= options_.max_hash_buffers) return false;
  ++kept_total_;
  return true;
}

void DiskPipeline::drop_kept(PartFile& part) {
  kept_total_ -= part.hash_buffers.size();
  part.hash_buffers.clear();
}

void DiskPipeline::schedule_hash(const std::shared_ptr<PartFile>& part) {
  {
    std::lock_guard lock(part->mutex);
    if (part->hash_queued) return;
    part->hash_queued = true;
  }
  hasher_.post([this, part] { hash_available(part); });
}

void DiskPipeline::hash_available(const std::shared_ptr<PartFile>& part) {
  while (true) {
    std::uint64_t epoch = 0;
    std::uint64_t frontier = 0;
    int fd = -1;
    BufferRef in_memory;
    std::uint64_t next_buffer = UINT64_MAX;
    {
      std::lock_guard lock(part->mutex);
      if (part->closed || part->failed || part->hash_complete) {
        part->hash_queued = false;
        return;
      }
      epoch = part->epoch;
      fd = part->fd;
      frontier = part->written.contiguous_end(0);
      if (part->hashed_epoch != epoch || (part->hashed == 0 && !part->blob_hasher)) {
        // The remote file changed and the .part restarted: so does the hash.
        part->hasher.reset();
        part->blob_hasher.reset();
        if (!part->expected_git_sha1.empty() && part->size)
          part->blob_hasher = std::make_unique<net::GitBlobSha1>(*part->size);
        part->hashed = 0;
        part->hashed_mark = 0;
        part->hashed_epoch = epoch;
      }
      if (part->hashed >= frontier) {
        part->hash_queued = false;
        const std::uint64_t end = part->size.value_or(part->written.covered());
        const bool complete =
            part->all_written && frontier == end && part->written.covered() == end;
        if (!complete) return;
        part->hash_complete = true;
        drop_kept(*part);
      } else {
        in_memory = take_hash_buffer(*part, next_buffer);
      }
    }
    if (part->hashed >= frontier) {
      const std::string digest = part->hasher.finish_hex();
      const std::string git_sha1 = part->blob_hasher ? part->blob_hasher->hex() : std::string();
      syncer_.post([this, part, digest, git_sha1] { finalize(part, digest, git_sha1); });
      return;
    }
    if (in_memory) {
      // Written and contiguous with the prefix, so all of it is hashable.
      const std::uint64_t skip = part->hashed - in_memory->offset;
      const std::size_t count = static_cast<std::size_t>(
          std::min<std::uint64_t>(in_memory->size - skip, frontier - part->hashed));
      hash(*part, in_memory->data() + skip, count);
      part->hashed += count;
      part->hashed_mark = part->hashed;
      continue;
    }
    const std::size_t want =
        static_cast<std::size_t>(std::min({static_cast<std::uint64_t>(kHashChunk),
                                           frontier - part->hashed, next_buffer - part->hashed}));
    auto got = fs_->read_at(fd, hash_scratch_.get(), want, part->hashed);
    if (!got || *got != want) {
      return report_failure(
          *part, got ? Error{ErrorCode::kIo, "short read while hashing " + part->part.string()}
                     : got.error());
    }
    {
      std::lock_guard lock(part->mutex);
      if (part->epoch != epoch) continue;  // restarted under us: discard what was read
    }
    hash(*part, hash_scratch_.get(), want);
    part->hashed += want;
    part->hashed_mark = part->hashed;
  }
}

BufferRef DiskPipeline::take_hash_buffer(PartFile& part, std::uint64_t& next_buffer) {
  auto& kept = part.hash_buffers;
  // Buffers wholly behind the prefix were read back already: let them go.
  while (!kept.empty() && kept.begin()->first + kept.begin()->second->size <= part.hashed) {
    kept.erase(kept.begin());
    --kept_total_;
  }
  auto after = kept.upper_bound(part.hashed);
  if (after != kept.begin()) {
    auto holder = std::prev(after);
    if (holder->second->offset + holder->second->size > part.hashed &&
        holder->second->epoch == part.epoch) {
      BufferRef buffer = std::move(holder->second);
      kept.erase(holder);
      --kept_total_;
      return buffer;
    }
  }
  if (after != kept.end()) next_buffer = after->first;
  return nullptr;
}

void DiskPipeline::checkpoint(const std::shared_ptr<PartFile>& part) {
  // Through the writer first, so the buffers handed over just before are in.
  writer_.post([this, part] {
    syncer_.post([this, part] {
      if (auto saved = save_checkpoint(*part); !saved) report_failure(*part, saved.error());
    });
  });
}

Result<void> DiskPipeline::save_checkpoint(PartFile& part) {
  ResumeState snapshot;
  int fd = -1;
  {
    std::lock_guard lock(part.mutex);
    if (part.closed || part.fd < 0) return {};
    snapshot.validator = part.validator;
    snapshot.done = part.written;
    fd = part.fd;
  }
  if (snapshot == part.last_saved) return {};
  // Only bytes that are on the platter may be claimed as done.
  if (auto synced = fs_->datasync(fd); !synced) return synced;
  if (auto saved = fs_->write_file_atomic(part.state, serialize_resume_state(snapshot)); !saved) {
    return saved;
  }
  part.last_saved = std::move(snapshot);
  return {};
}

void DiskPipeline::hash(PartFile& part, const std::byte* data, std::size_t size) {
  part.hasher.update(data, size);
  if (part.blob_hasher)
    part.blob_hasher->update(std::string_view(reinterpret_cast<const char*>(data), size));
}

void DiskPipeline::finish(const std::shared_ptr<PartFile>& part,
                          std::optional<std::string> expected_sha256) {
  writer_.post([this, part, expected = std::move(expected_sha256)] {
    {
      std::lock_guard lock(part->mutex);
      part->all_written = true;
      part->expected_sha256 = expected;
    }
    schedule_hash(part);
  });
}

void DiskPipeline::finalize(const std::shared_ptr<PartFile>& part, const std::string& digest,
                            const std::string& git_sha1) {
  int fd = -1;
  std::optional<std::string> expected;
  std::string expected_git;
  std::uint64_t size = 0;
  {
    std::lock_guard lock(part->mutex);
    if (part->closed || part->failed) return;
    part->closed = true;
    drop_kept(*part);
    fd = part->fd;
    expected = part->expected_sha256;
    expected_git = part->expected_git_sha1;
    size = part->size.value_or(part->written.covered());
  }
  auto done = [&](Result<FinalizedFile> result) {
    sink_(PartEvent{PartEvent::Kind::kFinalized, part->owner, std::move(result)});
  };
  if (auto synced = fs_->datasync(fd); !synced) return done(fail(synced.error()));
  auto stat = fs_->stat(fd);
  if (!stat) return done(fail(stat.error()));
  if (stat->length != size) {
    // Preallocation can leave a longer file only if the server lied about the length.
    if (auto cut = fs_->truncate(fd, size); !cut) return done(fail(cut.error()));
  }
  if (expected && *expected != digest) {
    fs_->remove(part->part);
    fs_->remove(part->state);
    return done(fail(ErrorCode::kDataLoss, "sha256 mismatch for " +
                                               part->destination.filename().string() +
                                               ": expected " + *expected + ", got " + digest));
  }
  std::string checked_git;
  if (!expected_git.empty()) {
    // Hashed on the way when the size was known, else read back once here.
    const std::string got = git_sha1.empty() ? git_sha1_of(*part, fd, size) : git_sha1;
    if (got != expected_git) {
      fs_->remove(part->part);
      fs_->remove(part->state);
      return done(fail(ErrorCode::kDataLoss, "git blob id mismatch for " +
                                                 part->destination.filename().string() +
                                                 ": expected " + expected_git + ", got " + got));
    }
    checked_git = got;
  }
  if (auto renamed = fs_->rename(part->part, part->destination); !renamed)
    return done(fail(renamed.error()));
  if (auto synced = fs_->sync_directory(part->destination.parent_path()); !synced) {
    return done(fail(synced.error()));
  }
  fs_->remove(part->state);
  done(FinalizedFile{size, digest, checked_git});
}

std::string DiskPipeline::git_sha1_of(PartFile& part, int fd, std::uint64_t size) {
  net::GitBlobSha1 blob(size);
  std::vector<std::byte> chunk(1u << 20);
  for (std::uint64_t offset = 0; offset < size;) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), size - offset));
    auto got = fs_->read_at(fd, chunk.data(), want, offset);
    if (!got || *got == 0) return "(" + part.part.filename().string() + " unreadable)";
    blob.update(std::string_view(reinterpret_cast<const char*>(chunk.data()), *got));
    offset += *got;
  }
  return blob.hex();
}

void DiskPipeline::verify_existing(const std::shared_ptr<PartFile>& part) {
  hasher_.post([this, part] {
    auto event = [&](Result<FinalizedFile> result) {
      sink_(PartEvent{PartEvent::Kind::kVerified, part->owner, std::move(result)});
    };
    auto fd = fs_->open_read(part->destination);
    if (!fd) return event(fail(fd.error()));
    net::Sha256 sha;
    std::unique_ptr<net::GitBlobSha1> blob;
    if (!part->expected_git_sha1.empty()) {
      if (auto size = fs_->file_size(part->destination))
        blob = std::make_unique<net::GitBlobSha1>(*size);
    }
    std::uint64_t offset = 0;
    while (true) {
      {
        std::lock_guard lock(part->mutex);
        if (part->closed) break;  // stopped while verifying
      }
      auto got = fs_->read_at(*fd, hash_scratch_.get(), kHashChunk, offset);
      if (!got) {
        fs_->close(*fd);
        return event(fail(got.error()));
      }
      if (*got == 0) break;
      sha.update(hash_scratch_.get(), *got);
      if (blob)
        blob->update(std::string_view(reinterpret_cast<const char*>(hash_scratch_.get()), *got));
      offset += *got;
    }
    fs_->close(*fd);
    event(FinalizedFile{offset, sha.finish_hex(), blob ? blob->hex() : std::string()});
  });
}

void DiskPipeline::stop(const std::shared_ptr<PartFile>& part, bool keep) {
  // Through each disk thread in turn, so that whatever they had queued for
  // this file has run before it closes.
  writer_.post([this, part, keep] {
    hasher_.post([this, part, keep] {
      syncer_.post([this, part, keep] {
        // Best effort: after a disk error the written ranges are still good.
        if (keep) (void)save_checkpoint(*part);
        int fd = -1;
        int direct_fd = -1;
        {
          std::lock_guard lock(part->mutex);
          part->closed = true;
          drop_kept(*part);
          fd = std::exchange(part->fd, -1);  // opened and locked by us, not another process
          direct_fd = std::exchange(part->direct_fd, -1);
        }
        if (!keep && fd >= 0) {
          fs_->remove(part->part);
          fs_->remove(part->state);
        }
        // Closed (and so unlocked) before the transfer says it has ended: a
        // retry that starts at once must find the file free.
        if (direct_fd >= 0) fs_->close(direct_fd);
        if (fd >= 0) fs_->close(fd);
        sink_(PartEvent{PartEvent::Kind::kClosed, part->owner, FinalizedFile{}});
      });
    });
  });
}

}  // namespace haul::transfer
