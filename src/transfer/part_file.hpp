// One destination being written: <dest>.part, <dest>.part.state, and the
// bookkeeping the disk threads share about it (what is written, durable,
// hashed). Internal to the engine; DiskPipeline is its only writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/git_blob_sha1.hpp"
#include "net/sha256.hpp"
#include "transfer/buffer_pool.hpp"
#include "transfer/byte_range.hpp"
#include "transfer/file_system.hpp"
#include "transfer/resume_state.hpp"

namespace haul::transfer {

std::filesystem::path part_path_for(const std::filesystem::path& destination);
std::filesystem::path state_path_for(const std::filesystem::path& destination);

// The resume state of a destination, when both its .part and a readable
// .part.state exist. Small synchronous reads; callable from any thread.
std::optional<ResumeState> load_resume_state(FileSystem& fs,
                                             const std::filesystem::path& destination);

struct PartFile {
  PartFile(std::shared_ptr<FileSystem> file_system, std::uint64_t owner_id,
           std::filesystem::path destination_path)
      : fs(std::move(file_system)),
        owner(owner_id),
        destination(std::move(destination_path)),
        part(part_path_for(destination)),
        state(state_path_for(destination)) {}
  // The descriptor closes only when no disk thread holds the file any more.
  ~PartFile() {
    if (fd >= 0) fs->close(fd);
    if (direct_fd >= 0) fs->close(direct_fd);
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  const std::shared_ptr<FileSystem> fs;
  const std::uint64_t owner;  // the transfer this file belongs to
  const std::filesystem::path destination;
  const std::filesystem::path part;
  const std::filesystem::path state;

  std::mutex mutex;
  int fd = -1;                                 // guarded by mutex; set once by the first prepare
  int direct_fd = -1;                          // writer thread only: O_DIRECT twin of fd, or -1
  std::uint64_t epoch = 0;                     // guarded by mutex; bumps on every prepare
  std::optional<std::uint64_t> size;           // guarded by mutex
  Validator validator;                         // guarded by mutex
  RangeSet written;                            // guarded by mutex: pwrite() returned for these
  bool failed = false;                         // guarded by mutex: a disk error was reported
  bool closed = false;                         // guarded by mutex: stopped, finalized or discarded
  bool all_written = false;                    // guarded by mutex: finish() passed the writer
  std::optional<std::string> expected_sha256;  // guarded by mutex
  // Set once when the PartFile is made, before any disk thread sees it.
  std::string expected_git_sha1;  // "" = none
  bool hash_queued = false;       // guarded by mutex
  bool hash_complete = false;     // guarded by mutex: the digest was taken
  // Written buffers kept for the hasher so it need not read them back;
  // keyed by file offset. Guarded by mutex; counted in DiskPipeline's budget.
  std::map<std::uint64_t, BufferRef> hash_buffers;
  // Mirrors for the network thread, which paces connections by them (see
  // Download::hasher_behind): `hashed` and the contiguous written end.
  std::atomic<std::uint64_t> hashed_mark{0};
  std::atomic<std::uint64_t> written_prefix{0};

  // Owned by the hasher thread alone.
  net::Sha256 hasher;
  // The git blob id, hashed beside the SHA-256 when one is expected and the
  // size was known from the start (the id's header holds it).
  std::unique_ptr<net::GitBlobSha1> blob_hasher;
  std::uint64_t hashed = 0;
  std::uint64_t hashed_epoch = 0;
  // Owned by the syncer thread alone.
  ResumeState last_saved;
};

}  // namespace haul::transfer
