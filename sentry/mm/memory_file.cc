#include "sentry/mm/memory_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sentry/base/log.h"
#include "sentry/usermem/addr.h"

namespace sentry {

absl::StatusOr<std::unique_ptr<MemoryFile>> MemoryFile::Create(uint64_t capacity) {
  int fd = memfd_create("sentry-memory", MFD_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "memfd_create");
  if (ftruncate(fd, static_cast<off_t>(capacity)) < 0) {
    int e = errno;
    close(fd);
    return ErrnoToStatus(e, "ftruncate memory file");
  }
  void* base = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    close(fd);
    return ErrnoToStatus(e, "mmap memory file");
  }
  size_t refs_len = (capacity / kPageSize) * sizeof(std::atomic<uint32_t>);
  void* refs = mmap(nullptr, refs_len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (refs == MAP_FAILED) {
    int e = errno;
    munmap(base, capacity);
    close(fd);
    return ErrnoToStatus(e, "mmap page reference counts");
  }
  return std::unique_ptr<MemoryFile>(new MemoryFile(fd, capacity, static_cast<uint8_t*>(base),
                                                    static_cast<std::atomic<uint32_t>*>(refs)));
}

MemoryFile::MemoryFile(int fd, uint64_t capacity, uint8_t* base, std::atomic<uint32_t>* refs)
    : fd_(fd), capacity_(capacity), base_(base), refs_(refs), bump_(kPageSize) {}
// Offset 0 is never handed out, so 0 can mean "no page" in callers' maps.

MemoryFile::~MemoryFile() {
  munmap(refs_, (capacity_ / kPageSize) * sizeof(std::atomic<uint32_t>));
  munmap(base_, capacity_);
  close(fd_);
}

ErrorOr<uint64_t> MemoryFile::Allocate(uint64_t len) {
  SCHECK(len > 0 && IsPageAligned(len));
  uint64_t start = 0;
  {
    absl::MutexLock l(&mu_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second - it->first >= len) {
        start = it->first;
        uint64_t end = it->second;
        free_.erase(it);
        if (start + len < end) free_[start + len] = end;
        break;
      }
    }
    if (start == 0) {
      if (bump_ + len > capacity_ || bump_ + len < bump_) return Err(ENOMEM);
      start = bump_;
      bump_ += len;
    }
  }
  for (uint64_t p = start / kPageSize; p < (start + len) / kPageSize; p++) {
    refs_[p].store(1, std::memory_order_relaxed);
  }
  allocated_.fetch_add(len, std::memory_order_relaxed);
  return start;
}

void MemoryFile::IncRef(FileRange r) {
  for (uint64_t p = r.start / kPageSize; p < r.end / kPageSize; p++) {
    uint32_t old = refs_[p].fetch_add(1, std::memory_order_relaxed);
    SCHECK(old > 0);
  }
}

uint32_t MemoryFile::RefCount(uint64_t off) const {
  return refs_[off / kPageSize].load(std::memory_order_relaxed);
}

bool MemoryFile::PagePresent(uint64_t off) const {
  off_t data = lseek(fd_, static_cast<off_t>(off), SEEK_DATA);
  return data >= 0 && static_cast<uint64_t>(data) < off + kPageSize;
}

void MemoryFile::DecRef(FileRange r) {
  // Collect runs of pages that reached zero and free each run at once.
  uint64_t run_start = 0, run_end = 0;
  auto flush = [&] {
    if (run_end > run_start) {
      // Punch first: the memory must read as zero before it is reused.
      fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(run_start),
                static_cast<off_t>(run_end - run_start));
      absl::MutexLock l(&mu_);
      FreeLocked(run_start, run_end);
    }
    run_start = run_end = 0;
  };
  for (uint64_t p = r.start / kPageSize; p < r.end / kPageSize; p++) {
    uint32_t old = refs_[p].fetch_sub(1, std::memory_order_acq_rel);
    SCHECK(old > 0);
    if (old == 1) {
      uint64_t off = p * kPageSize;
      if (run_end == off) {
        run_end += kPageSize;
      } else {
        flush();
        run_start = off;
        run_end = off + kPageSize;
      }
    }
  }
  flush();
}

void MemoryFile::FreeLocked(uint64_t start, uint64_t end) {
  allocated_.fetch_sub(end - start, std::memory_order_relaxed);
  // Coalesce with neighbours.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == end) {
    end = next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->second == start) {
      prev->second = end;
      start = prev->first;
    } else {
      free_[start] = end;
    }
  } else {
    free_[start] = end;
  }
  // Give the top back to the bump allocator.
  auto last = free_.find(start);
  if (last != free_.end() && last->second == bump_) {
    bump_ = last->first;
    free_.erase(last);
  }
}

}  // namespace sentry
