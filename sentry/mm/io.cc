// Copy-in/out: application memory seen through the Sentry's own mapping of
// the MemoryFile. A copy takes mu_ shared when every page is already
// populated with the needed access (the common case) and exclusively only
// to populate or break copy-on-write first.
#include <cstring>

#include "sentry/base/log.h"
#include "sentry/mm/mm.h"

namespace sentry {

bool MemoryManager::CoveredLocked(uint64_t start, uint64_t end, bool write) {
  for (uint64_t a = start; a < end;) {
    auto pit = FindPmaLocked(a);
    if (pit == pmas_.end() || (write && pit->second.cow)) return false;
    auto vit = FindVmaLocked(a);
    if (vit == vmas_.end()) return false;
    int prot = vit->second.prot;
    if (write ? !(prot & PROT_WRITE) : prot == PROT_NONE) return false;
    a = std::min(pit->second.end, vit->second.end);
  }
  return true;
}

size_t MemoryManager::CopyLocked(uint64_t addr, size_t n, bool write, const BlockFn& fn) {
  size_t done = 0;
  while (done < n) {
    uint64_t a = addr + done;
    auto pit = FindPmaLocked(a);
    if (pit == pmas_.end() || (write && pit->second.cow)) break;
    auto vit = FindVmaLocked(a);
    if (vit == vmas_.end()) break;
    int prot = vit->second.prot;
    if (write ? !(prot & PROT_WRITE) : prot == PROT_NONE) break;
    uint64_t piece_end = std::min({pit->second.end, vit->second.end, addr + n});
    size_t len = piece_end - a;
    uint8_t* p = mf_->Internal(pit->second.off + (a - pit->first));
    if (!fn(p, len)) {
      done += len;
      break;
    }
    done += len;
  }
  return done;
}

size_t MemoryManager::DoBlocks(UserAddr addr, size_t n, bool write, const BlockFn& fn) {
  uint64_t start = addr.value();
  if (n == 0) return 0;
  if (start >= kMaxUserAddress) return 0;
  if (start + n < start || start + n > kMaxUserAddress) n = kMaxUserAddress - start;
  uint64_t end = start + n;
  {
    absl::ReaderMutexLock l(&mu_);
    if (CoveredLocked(start, end, write)) return CopyLocked(start, n, write, fn);
  }
  absl::MutexLock l(&mu_);
  bool bus = false;
  // Populate as far as possible; a failure part-way leaves a valid prefix.
  for (uint64_t a = PageRoundDown(start); a < end;) {
    if (PopulateLocked(a, std::min(end, PageRoundDown(a) + kPageSize), write, &bus) != 0) break;
    auto pit = FindPmaLocked(a);
    a = std::min(pit->second.end, end);
  }
  FlushLocked();
  return CopyLocked(start, n, write, fn);
}

size_t MemoryManager::WithBlocks(UserAddr addr, size_t n, bool write, const BlockFn& fn) {
  return DoBlocks(addr, n, write, fn);
}

size_t MemoryManager::CopyOutPartial(UserAddr dst, const void* src, size_t n) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  return DoBlocks(dst, n, true, [&](uint8_t* p, size_t len) {
    memcpy(p, s, len);
    s += len;
    return true;
  });
}

size_t MemoryManager::CopyInPartial(UserAddr src, void* dst, size_t n) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  return DoBlocks(src, n, false, [&](uint8_t* p, size_t len) {
    memcpy(d, p, len);
    d += len;
    return true;
  });
}

size_t MemoryManager::ZeroOutPartial(UserAddr dst, size_t n) {
  return DoBlocks(dst, n, true, [&](uint8_t* p, size_t len) {
    memset(p, 0, len);
    return true;
  });
}

Errno MemoryManager::SharedOffset(UserAddr a, bool* shared, uint64_t* off) {
  absl::MutexLock l(&mu_);
  auto vit = FindVmaLocked(a.value());
  if (vit == vmas_.end()) return EFAULT;
  *shared = vit->second.shared;
  if (!*shared) return 0;
  bool bus = false;
  TRY(PopulateLocked(a.value(), a.value() + 1, false, &bus));
  auto pit = FindPmaLocked(a.value());
  *off = pit->second.off + (a.value() - pit->first);
  return 0;
}

ErrorOr<std::string> MemoryManager::CopyInString(UserAddr src, size_t max_len) {
  std::string out;
  uint64_t a = src.value();
  while (out.size() < max_len) {
    // Never read across a page we do not need: stop at page boundaries.
    size_t chunk = std::min<size_t>(kPageSize - (a & (kPageSize - 1)), max_len - out.size());
    char buf[kPageSize];
    size_t got = CopyInPartial(UserAddr(a), buf, chunk);
    void* nul = memchr(buf, 0, got);
    if (nul != nullptr) {
      out.append(buf, static_cast<char*>(nul) - buf);
      return out;
    }
    out.append(buf, got);
    if (got < chunk) return Err(EFAULT);
    a += chunk;
  }
  return Err(ENAMETOOLONG);
}

}  // namespace sentry
