// The disk side of the engine: three worker threads so the network thread
// never blocks on the filesystem.
//   writer  - opens, preallocates and pwrite()s .part files, in posting order
//             (O_DIRECT for aligned buffers where the filesystem allows);
//   hasher  - SHA-256 over each file's contiguous written prefix, so the hash
//             is ready when the last byte lands (no second pass); it hashes
//             buffers the writer kept for it, and reads back only the rest;
//   syncer  - fdatasync + resume-state checkpoints, and the atomic finalize
//             (fdatasync, verify, rename, fsync the directory).
// Every method may be called from any thread; results come back as PartEvents
// through the sink, on one of the disk threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/serial_executor.hpp"
#include "transfer/buffer_pool.hpp"
#include "transfer/file_system.hpp"
#include "transfer/part_file.hpp"

namespace haul::transfer {

struct PrepareSpec {
  std::uint64_t epoch = 0;            // tags the writes that follow
  std::optional<std::uint64_t> size;  // complete length, when the server said
  Validator validator;
  RangeSet done;  // bytes already on disk from an earlier run; empty = start from zero
};

struct FinalizedFile {
  std::uint64_t size = 0;
  std::string sha256;
  std::string git_sha1;  // verify_existing(), when the part expects one
};

struct PartEvent {
  enum class Kind {
    kFailed,     // a disk error; the file is left for a later resume
    kFinalized,  // result holds the verified file, or why verification failed
    kClosed,     // stop() finished
    kVerified,   // verify_existing() finished: result holds the digest or the read error
  };
  Kind kind = Kind::kFailed;
  std::uint64_t owner = 0;
  Result<FinalizedFile> result = FinalizedFile{};
};

struct DiskOptions {
  // Write aligned buffers with O_DIRECT where the filesystem allows: no copy
  // into the page cache, no writeback later, no eviction of the user's cache.
  bool direct_io = true;
  // Written buffers kept for the hashers, over all files (they read back the
  // rest). Must stay below the buffer pool's size, or connections starve.
  std::size_t max_hash_buffers = 16;
};

class DiskPipeline {
 public:
  using EventSink = std::function<void(PartEvent)>;

  DiskPipeline(std::shared_ptr<FileSystem> fs, EventSink sink, DiskOptions options = {});
  // Runs what was posted, then joins the threads.
  ~DiskPipeline();

  FileSystem& file_system() { return *fs_; }
  // Buffers now kept for the hashers; the network thread paces by it.
  std::size_t kept_buffers() const { return kept_total_.load(std::memory_order_relaxed); }
  const std::shared_ptr<FileSystem>& file_system_ptr() const { return fs_; }

  // Opens the .part, checks free space and preallocates; with an empty
  // spec.done the file restarts from zero. May be called again (a new epoch)
  // when the remote file changed. Fails with kNoSpace "not enough space on DIR:
  // need X, have Y".
  void prepare(const std::shared_ptr<PartFile>& part, PrepareSpec spec);
  // Writes buffer->size bytes at buffer->offset unless the buffer's epoch is stale.
  void write(const std::shared_ptr<PartFile>& part, BufferRef buffer);
  // Once the writes posted before it are done: makes what is written durable,
  // then records it in the state file.
  void checkpoint(const std::shared_ptr<PartFile>& part);
  // Every byte has been passed to write(): hash the rest, verify (SHA-256,
  // and the git blob id when part->expected_git_sha1 is set), finalize.
  void finish(const std::shared_ptr<PartFile>& part, std::optional<std::string> expected_sha256);
  // Hashes the finished file already at part->destination (no writes): its
  // SHA-256, and its git blob id when the part expects one.
  void verify_existing(const std::shared_ptr<PartFile>& part);
  // Stops work on the file after the queued writes; keeps .part and state for
  // a resume (keep = true) or deletes both.
  void stop(const std::shared_ptr<PartFile>& part, bool keep);

 private:
  void report_failure(PartFile& part, Error error);
  void schedule_hash(const std::shared_ptr<PartFile>& part);
  void hash_available(const std::shared_ptr<PartFile>& part);
  // Hasher thread, part.mutex held: the kept buffer holding part.hashed, if
  // any; otherwise sets `next_buffer` to where the next kept one starts.
  BufferRef take_hash_buffer(PartFile& part, std::uint64_t& next_buffer);
  // Writer thread: true (and counted) when the hasher may keep `buffer` in
  // memory: it lies ahead of the hash position and the budget has room.
  bool reserve_hash_slot(const PartFile& part, const Buffer& buffer);
  // part.mutex held.
  void drop_kept(PartFile& part);
  Result<void> save_checkpoint(PartFile& part);
  void finalize(const std::shared_ptr<PartFile>& part, const std::string& digest,
                const std::string& git_sha1);
  // Hasher thread: feeds both digests.
  void hash(PartFile& part, const std::byte* data, std::size_t size);
  // Syncer thread: the git blob id of the whole .part, read back (when the
  // size was unknown while the bytes arrived). "" on a read error.
  std::string git_sha1_of(PartFile& part, int fd, std::uint64_t size);

  // Writer thread: pwrite, record the range, keep the buffer for the hasher
  // when the budget allows.
  // False when nothing new is hashable (a failure or a stale epoch).
  bool write_buffer(PartFile& part, const BufferRef& buffer, int fd);
  // `direct`: the aligned middle may go out with O_DIRECT.
  Result<void> write_range(PartFile& part, int fd, const std::byte* data, std::size_t size,
                           std::uint64_t offset, bool direct);

  std::shared_ptr<FileSystem> fs_;
  EventSink sink_;
  DiskOptions options_;
  std::unique_ptr<std::byte[]> hash_scratch_;  // hasher thread only
  std::atomic<std::size_t> kept_total_{0};     // buffers in every part's hash_buffers
  // Declared last: destroyed (drained and joined) first.
  SerialExecutor syncer_{"haul-sync"};
  SerialExecutor hasher_{"haul-hash"};
  SerialExecutor writer_{"haul-write"};
};

}  // namespace haul::transfer
