// MemoryFile: the one memfd that holds all application memory.
//
// Every page an application can see (anonymous memory, tmpfs file data,
// cached pages of gofer files) is a page of this file. The Sentry maps the
// whole file once into its own address space, so copy-in/out is a memcpy
// at `base + offset`; platforms map ranges of the same file into the
// application's address space (stub processes, guest page tables).
//
// Pages are reference counted: a page is freed (its backing memory punched
// out of the memfd) when the last mapping, COW sharer or file cache drops
// it. Freed ranges are reused by later allocations; reused memory is zero
// because a punched hole reads as zeros.
//
// Thread safety: all methods may be called concurrently. Lock order:
// MemoryFile::mu_ is a leaf.
#ifndef SENTRY_MM_MEMORY_FILE_H_
#define SENTRY_MM_MEMORY_FILE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sentry/base/error.h"

namespace sentry {

// A range of MemoryFile offsets [start, end), page aligned.
struct FileRange {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t length() const { return end - start; }
};

class MemoryFile {
 public:
  // Creates a memfd of `capacity` bytes (sparse) and maps it.
  static absl::StatusOr<std::unique_ptr<MemoryFile>> Create(uint64_t capacity);
  ~MemoryFile();

  int fd() const { return fd_; }
  uint64_t capacity() const { return capacity_; }

  // Allocates `len` bytes (a page multiple) of zeroed, contiguous file
  // space; each page starts with one reference. ENOMEM when full.
  ErrorOr<uint64_t> Allocate(uint64_t len);

  void IncRef(FileRange r);
  // Drops one reference from each page; pages reaching zero are freed.
  void DecRef(FileRange r);
  uint32_t RefCount(uint64_t page_off) const;

  // The Sentry's own mapping of the byte at `off`. Valid until the page is
  // freed; callers hold a reference (directly or through a pma).
  uint8_t* Internal(uint64_t off) const { return base_ + off; }
  // Whether the page at `off` has ever been touched since it was last
  // freed (the host holds memory for it): mincore's notion of resident.
  // Asks the host with SEEK_DATA, which tmpfs answers per page.
  bool PagePresent(uint64_t off) const;

  // Bytes currently allocated (for /proc/meminfo and memory accounting).
  uint64_t AllocatedBytes() const { return allocated_.load(std::memory_order_relaxed); }

 private:
  MemoryFile(int fd, uint64_t capacity, uint8_t* base, std::atomic<uint32_t>* refs);
  void FreeLocked(uint64_t start, uint64_t end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int fd_;
  const uint64_t capacity_;
  uint8_t* const base_;
  // One counter per page, in a sparse anonymous mapping: untouched parts of
  // the array cost nothing.
  std::atomic<uint32_t>* const refs_;
  std::atomic<uint64_t> allocated_{0};

  absl::Mutex mu_;
  // Free ranges below `bump_`, start -> end, coalesced.
  std::map<uint64_t, uint64_t> free_ ABSL_GUARDED_BY(mu_);
  uint64_t bump_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sentry

#endif  // SENTRY_MM_MEMORY_FILE_H_
