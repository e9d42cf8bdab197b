// Mappable: a file whose pages can be mapped into application memory.
//
// File systems implement it for regular files: tmpfs keeps file data in the
// MemoryFile already; the gofer client caches host file pages there on
// first use. Either way a mapping references the file's own pages, so
// MAP_SHARED mappings, read() and write() all see the same bytes, and
// MAP_PRIVATE mappings copy a page only when the application writes to it.
#ifndef SENTRY_MM_MAPPABLE_H_
#define SENTRY_MM_MAPPABLE_H_

#include <cstdint>
#include <string>

#include "sentry/base/error.h"
#include "sentry/mm/memory_file.h"

namespace sentry {

class Mappable {
 public:
  virtual ~Mappable() = default;

  // Returns MemoryFile pages backing the file from `off` (page aligned) on,
  // at most `max_len` bytes and at least one page, contiguous in the
  // MemoryFile. The caller receives one reference per page. `write` means
  // the caller will write through the mapping (shared writable mapping).
  // Fails with EFAULT when `off` is at or beyond the end of the file
  // (the application gets SIGBUS), EIO when the data cannot be read.
  virtual ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) = 0;

  // Identity shown in /proc/<pid>/maps.
  virtual uint64_t MapsDev() const { return 0; }
  virtual uint64_t MapsIno() const { return 0; }
};

}  // namespace sentry

#endif  // SENTRY_MM_MAPPABLE_H_
