// Shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): a fixed-size
// object in the MemoryFile that every mapping references, so the pages
// stay shared across fork.
#ifndef SENTRY_MM_ANON_SHARED_H_
#define SENTRY_MM_ANON_SHARED_H_

#include <memory>

#include "sentry/base/error.h"
#include "sentry/mm/mappable.h"

namespace sentry {

ErrorOr<std::shared_ptr<Mappable>> NewAnonymousSharedMemory(MemoryFile* mf, uint64_t size);

}  // namespace sentry

#endif  // SENTRY_MM_ANON_SHARED_H_
