// PageCache: the pages of one gofer file kept in the MemoryFile, so the
// file can be mapped (mmap) and every mapping shares the same pages.
//
// One contiguous MemoryFile extent is reserved per file (sparse: pages
// cost memory only once filled) and filled in 64 KiB chunks from the host
// fd on first use, so Translate returns long contiguous runs. The cache
// owns one reference on every page of its extent; each Translate gives
// the caller one more per page returned.
//
// Coherence with read()/write(), which use the host fd directly: a write
// goes to the host file and then into any cached chunk (Update). A chunk
// handed out for a shared writable mapping is "dirty": the application may
// write it at any time, so reads of it come from the cache (ReadDirty) and
// Writeback copies it to the host (fsync, last close of the inode).
//
// Knowingly simple: no eviction under memory pressure (pages live as long
// as the inode); when a file outgrows its extent, or shrinks, the cache
// starts over on a new extent and mappings made before keep the old pages.
//
// Lock order: PageCache::mu_ > MemoryFile::mu_.
#ifndef FS_GOFER_PAGE_CACHE_H_
#define FS_GOFER_PAGE_CACHE_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fs/vfs/iosequence.h"
#include "sentry/base/error.h"
#include "sentry/mm/memory_file.h"

namespace sentry::goferfs {

class PageCache {
 public:
  static constexpr uint64_t kChunk = 64 * 1024;
  // At most this much is filled by one Translate: bounds the latency of a
  // single page fault on a huge file.
  static constexpr uint64_t kMaxTranslate = 4 * 1024 * 1024;

  explicit PageCache(MemoryFile* mf) : mf_(mf) {}
  ~PageCache();
  PageCache(const PageCache&) = delete;

  // Mappable::Translate for a file of `size` bytes whose data `fd` reads.
  ErrorOr<FileRange> Translate(int fd, uint64_t size, uint64_t off, uint64_t max_len, bool write);
  // After `len` bytes from `src` were written to the host file at `off`.
  void Update(uint64_t off, const uint8_t* src, size_t len);
  bool HasDirty();
  // read() of [off, off + n) when dirty chunks may hold newer bytes than
  // the host file: dirty chunks are copied from the cache, the rest is
  // read from `fd`. Returns bytes read.
  ErrorOr<size_t> Read(int fd, IOSequence& dst, uint64_t off, uint64_t n);
  // Writes dirty chunks below `size` to `fd` (they stay dirty: mappings
  // may still write).
  Errno Writeback(int fd, uint64_t size);
  // The file shrank to `size`: forget everything (call Writeback first).
  void Invalidate();

 private:
  enum State : uint8_t { kAbsent = 0, kFilled = 1, kDirty = 2 };
  Errno ReserveLocked(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Errno FillLocked(int fd, uint64_t size, uint64_t chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MemoryFile* const mf_;
  absl::Mutex mu_;
  uint64_t base_ ABSL_GUARDED_BY(mu_) = 0;      // MemoryFile offset of file offset 0
  uint64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;  // bytes of the extent
  std::vector<State> state_ ABSL_GUARDED_BY(mu_);  // per chunk
  size_t dirty_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sentry::goferfs

#endif  // FS_GOFER_PAGE_CACHE_H_
