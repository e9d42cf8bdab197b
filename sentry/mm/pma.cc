// PMAs: populating, copy-on-write, mirroring into the AddressSpace, faults.
#include <cstring>

#include "sentry/base/log.h"
#include "sentry/mm/mm.h"

namespace sentry {
namespace {
// Fresh anonymous memory and file pages are populated in aligned windows of
// this size, so touching a new mapping costs one fault per window, not per
// page. Untouched pages inside a window cost nothing: the MemoryFile is
// sparse.
constexpr uint64_t kPopulateWindow = 2ull << 20;
}  // namespace

MemoryManager::PmaMap::iterator MemoryManager::FindPmaLocked(uint64_t addr) {
  auto it = pmas_.upper_bound(addr);
  if (it == pmas_.begin()) return pmas_.end();
  --it;
  return addr < it->second.end ? it : pmas_.end();
}

void MemoryManager::SplitPmaLocked(uint64_t at) {
  auto it = FindPmaLocked(at);
  if (it == pmas_.end() || it->first == at) return;
  Pma second = it->second;
  second.off += at - it->first;
  it->second.end = at;
  pmas_.emplace(at, second);
}

int MemoryManager::PmaProt(const Pma& p, int vma_prot) {
  return p.cow ? (vma_prot & ~PROT_WRITE) : vma_prot;
}

void MemoryManager::MapPmaLocked(uint64_t start, Pma& p, int vma_prot) {
  if (!as_) return;
  int prot = PmaProt(p, vma_prot);
  as_->MapFile(UserAddr(start), p.off, p.end - start, prot);
  p.mapped = true;
  p.mapped_prot = prot;
}

void MemoryManager::DropPmasLocked(uint64_t start, uint64_t end) {
  SplitPmaLocked(start);
  SplitPmaLocked(end);
  for (auto it = pmas_.lower_bound(start); it != pmas_.end() && it->first < end;) {
    Pma& p = it->second;
    if (p.mapped) as_->Unmap(UserAddr(it->first), p.end - it->first);
    to_release_.push_back({p.off, p.off + (p.end - it->first)});
    it = pmas_.erase(it);
  }
}

void MemoryManager::FlushLocked() {
  // Every change goes through here: bump the generation so a concurrent
  // fault that it may have resolved is retried (see HandleFault).
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (as_ && !as_->Flush()) {
    // Another address space than the caller's (e.g. a parent writing into
    // its fork child): the operations stay queued in the AddressSpace and
    // run before its own tasks next enter the application; the pages they
    // unmap must live until then.
    return;
  }
  for (const FileRange& r : to_release_) mf_->DecRef(r);
  to_release_.clear();
}

Errno MemoryManager::PopulateLocked(uint64_t start, uint64_t end, bool write, bool* bus) {
  for (uint64_t a = PageRoundDown(start); a < end;) {
    auto it = FindPmaLocked(a);
    if (it != pmas_.end() && (!write || !it->second.cow)) {
      auto vit = FindVmaLocked(a);
      if (vit == vmas_.end()) return EFAULT;
      int prot = vit->second.prot;
      if (write ? !(prot & PROT_WRITE) : prot == PROT_NONE) return EFAULT;
      a = it->second.end;
      continue;
    }
    TRY(PopulateOneLocked(a, end, write, bus));
    it = FindPmaLocked(a);
    SCHECK(it != pmas_.end());
    a = it->second.end;
  }
  return 0;
}

// Makes a pma exist at `addr` (extending toward `limit_end` and the
// populate window) with the requested access.
Errno MemoryManager::PopulateOneLocked(uint64_t addr, uint64_t limit_end, bool write, bool* bus) {
  auto vit = FindVmaLocked(addr);
  if (vit == vmas_.end()) return EFAULT;
  const uint64_t vstart = vit->first;
  const Vma& v = vit->second;
  if (write ? !(v.prot & PROT_WRITE) : v.prot == PROT_NONE) return EFAULT;

  auto pit = FindPmaLocked(addr);
  if (pit != pmas_.end()) {
    // Exists but is copy-on-write and we need to write.
    return BreakCowLocked(pit, addr);
  }

  // The gap to fill: the populate window around addr, clipped to the VMA
  // and to neighbouring pmas, extended to cover limit_end.
  uint64_t lo = std::max(vstart, addr & ~(kPopulateWindow - 1));
  uint64_t hi = std::min(v.end, std::max((addr & ~(kPopulateWindow - 1)) + kPopulateWindow,
                                         std::min(limit_end, v.end)));
  hi = (hi + kPageSize - 1) & ~(kPageSize - 1);
  auto next = pmas_.upper_bound(addr);
  if (next != pmas_.end() && next->first < hi) hi = next->first;
  if (next != pmas_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.end > lo) lo = prev->second.end;
  }
  SCHECK(lo <= addr && addr < hi);

  if (!v.mappable) {
    // Private anonymous memory (shared anonymous mappings have a Mappable).
    uint64_t off = TRY_ASSIGN(mf_->Allocate(hi - lo));
    pmas_.emplace(lo, Pma{hi, off, false, false, 0});
    return 0;
  }

  // File-backed: translate from addr forward (the file's pages may not be
  // contiguous further back), at most to hi.
  uint64_t foff = v.offset + (addr - vstart);
  auto fr = v.mappable->Translate(foff, hi - addr, write && v.shared);
  if (!fr.ok()) {
    if (fr.error() == EFAULT && bus) *bus = true;
    return fr.error() == EFAULT ? EFAULT : fr.error();
  }
  uint64_t end = addr + fr->length();
  SCHECK(end <= hi);
  auto [it, ok] = pmas_.emplace(addr, Pma{end, fr->start, !v.shared, false, 0});
  SCHECK(ok);
  if (write && !v.shared) return BreakCowLocked(it, addr);
  return 0;
}

Errno MemoryManager::BreakCowLocked(PmaMap::iterator it, uint64_t addr) {
  Pma& p = it->second;
  if (!p.cow) return 0;
  // If every page is ours alone (the other side of a fork is gone), the
  // whole pma just becomes writable.
  bool sole = true;
  for (uint64_t o = p.off; o < p.off + (p.end - it->first); o += kPageSize) {
    if (mf_->RefCount(o) != 1) {
      sole = false;
      break;
    }
  }
  auto vit = FindVmaLocked(addr);
  SCHECK(vit != vmas_.end());
  int vprot = vit->second.prot;
  if (sole) {
    p.cow = false;
    if (p.mapped) {
      as_->Protect(UserAddr(it->first), p.end - it->first, PmaProt(p, vprot));
      p.mapped_prot = PmaProt(p, vprot);
    }
    return 0;
  }
  // Copy just the page written: copying more would cost memory for pages
  // the writer may never touch.
  uint64_t page = PageRoundDown(addr);
  SplitPmaLocked(page);
  SplitPmaLocked(page + kPageSize);
  it = FindPmaLocked(page);
  Pma& q = it->second;
  uint64_t fresh = TRY_ASSIGN(mf_->Allocate(kPageSize));
  memcpy(mf_->Internal(fresh), mf_->Internal(q.off), kPageSize);
  to_release_.push_back({q.off, q.off + kPageSize});
  q.off = fresh;
  q.cow = false;
  if (q.mapped) MapPmaLocked(page, q, vprot);
  return 0;
}

FaultOutcome MemoryManager::HandleFault(UserAddr fault_addr, uint64_t generation) {
  uint64_t addr = PageRoundDown(fault_addr.value());
  absl::MutexLock l(&mu_);
  auto vit = FindVmaLocked(addr);
  if (vit == vmas_.end()) return FaultOutcome::kSegvMapErr;
  const int vprot = vit->second.prot;
  if (vprot == PROT_NONE) return FaultOutcome::kSegvAccErr;

  // The platform does not say whether the access was a read, write or
  // fetch, so infer it from what is mapped: a missing page is populated
  // with the most access that costs nothing (copy-on-write pages read-only);
  // a page present with less than the VMA allows gets its next step up;
  // a page present with everything the VMA allows faulted on an access the
  // VMA forbids.
  auto pit = FindPmaLocked(addr);
  if (pit == pmas_.end()) {
    bool bus = false;
    Errno e = PopulateOneLocked(addr, addr + kPageSize, false, &bus);
    if (e != 0) return bus ? FaultOutcome::kBusErr : FaultOutcome::kSegvAccErr;
    // Mirror everything populated in the window.
    uint64_t wlo = addr & ~(kPopulateWindow - 1);
    for (auto it = pmas_.lower_bound(wlo);
         it != pmas_.end() && it->first < wlo + kPopulateWindow; ++it) {
      if (it->first >= vit->first && it->first < vit->second.end && !it->second.mapped) {
        MapPmaLocked(it->first, it->second, vprot);
      }
    }
  } else if (!pit->second.mapped) {
    MapPmaLocked(pit->first, pit->second, vprot);
  } else if (pit->second.mapped_prot != PmaProt(pit->second, vprot)) {
    MapPmaLocked(pit->first, pit->second, vprot);
  } else if (pit->second.cow && (vprot & PROT_WRITE)) {
    if (BreakCowLocked(pit, addr) != 0) return FaultOutcome::kSegvAccErr;
  } else if (generation_.load(std::memory_order_acquire) != generation) {
    // Another thread changed the mappings after this one last entered the
    // application: the fault may be stale. Retry; a real violation faults
    // again with nothing changed.
    return FaultOutcome::kHandled;
  } else {
    SLOG(kDebug, "mm: access fault at %#x: vma [%#x,%#x) prot %d, pma [%#x,%#x) cow %d mapped %d/%d",
         fault_addr.value(), vit->first, vit->second.end, vprot, pit->first, pit->second.end,
         pit->second.cow, pit->second.mapped, pit->second.mapped_prot);
    return FaultOutcome::kSegvAccErr;
  }
  FlushLocked();
  return FaultOutcome::kHandled;
}

}  // namespace sentry
