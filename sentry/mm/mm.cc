// MemoryManager: construction, layout, VMA operations (mmap, munmap,
// mprotect, mremap, brk, madvise). PMAs and faults are in pma.cc, copy-in/
// out in io.cc, fork and /proc views in fork.cc.
#include "sentry/mm/mm.h"

#include <algorithm>

#include "sentry/base/log.h"

namespace sentry {

MemoryManager::MemoryManager(Platform* platform, MemoryFile* mf)
    : platform_(platform), mf_(mf), reserved_(platform ? platform->ReservedRanges()
                                                       : std::vector<AddrRange>{}) {
  mmap_base_ = kMaxUserAddress;
}

MemoryManager::~MemoryManager() {
  absl::MutexLock l(&mu_);
  // The address space dies with us (the stub process is killed), so the
  // pages can go at once.
  as_.reset();
  for (auto& [start, p] : pmas_) mf_->DecRef({p.off, p.off + (p.end - start)});
  pmas_.clear();
  for (const FileRange& r : to_release_) mf_->DecRef(r);
  to_release_.clear();
}

ErrorOr<AddressSpace*> MemoryManager::GetAddressSpace() {
  absl::MutexLock l(&mu_);
  if (!as_) {
    auto as = TRY_ASSIGN(platform_->NewAddressSpace());
    as_ = std::move(as);
    // Everything already populated must be mirrored by the first switch.
    for (auto& [start, p] : pmas_) p.mapped = false;
  }
  return as_.get();
}

bool MemoryManager::OverlapsReserved(uint64_t start, uint64_t end) const {
  for (const AddrRange& r : reserved_) {
    if (start < r.end && r.start < end) return true;
  }
  return false;
}

MemoryManager::VmaMap::iterator MemoryManager::FindVmaLocked(uint64_t addr) {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return vmas_.end();
  --it;
  return addr < it->second.end ? it : vmas_.end();
}

bool MemoryManager::RangeIsFreeLocked(uint64_t start, uint64_t end) {
  if (end > kMaxUserAddress || start < kPageSize || end <= start) return false;
  if (OverlapsReserved(start, end)) return false;
  auto it = vmas_.lower_bound(end);
  if (it == vmas_.begin()) return true;
  --it;
  return it->second.end <= start;
}

ErrorOr<uint64_t> MemoryManager::FindAvailableLocked(uint64_t len, uint64_t hint) {
  if (len > kMaxUserAddress) return Err(ENOMEM);
  if (hint != 0 && hint + len > hint && RangeIsFreeLocked(hint, hint + len)) return hint;
  // Top-down from mmap_base_, skipping VMAs and reserved ranges.
  uint64_t top = std::min(mmap_base_, kMaxUserAddress);
  while (top >= len + kPageSize) {
    uint64_t start = top - len;
    // The highest obstacle overlapping [start, top).
    uint64_t obstacle_start = 0;
    bool blocked = false;
    auto it = vmas_.lower_bound(top);
    if (it != vmas_.begin()) {
      auto prev = std::prev(it);
      if (prev->second.end > start) {
        blocked = true;
        obstacle_start = prev->first;
      }
    }
    for (const AddrRange& r : reserved_) {
      if (r.start < top && start < r.end) {
        if (!blocked || r.start > obstacle_start) obstacle_start = r.start;
        blocked = true;
      }
    }
    if (!blocked) return start;
    top = obstacle_start;
  }
  return Err(ENOMEM);
}

void MemoryManager::SplitVmaLocked(uint64_t at) {
  auto it = FindVmaLocked(at);
  if (it == vmas_.end() || it->first == at) return;
  Vma second = it->second;
  second.offset += at - it->first;
  it->second.end = at;
  vmas_.emplace(at, std::move(second));
}

ErrorOr<UserAddr> MemoryManager::MMap(const MMapOpts& o) {
  if (o.length == 0) return Err(EINVAL);
  uint64_t len;
  if (!PageRoundUp(o.length, &len)) return Err(ENOMEM);
  if (o.mappable && !IsPageAligned(o.offset)) return Err(EINVAL);
  if (o.mappable && o.offset + len < o.offset) return Err(EOVERFLOW);
  absl::MutexLock l(&mu_);
  uint64_t start;
  if (o.fixed || o.fixed_noreplace) {
    start = o.addr.value();
    if (!IsPageAligned(start)) return Err(EINVAL);
    if (start + len < start || start + len > kMaxUserAddress) return Err(ENOMEM);
    if (start < kPageSize) return Err(EPERM);  // below mmap_min_addr
    if (OverlapsReserved(start, start + len)) return Err(ENOMEM);
    if (!RangeIsFreeLocked(start, start + len)) {
      if (o.fixed_noreplace) return Err(EEXIST);
      UnmapLocked(start, start + len);
    }
  } else {
    start = TRY_ASSIGN(FindAvailableLocked(len, PageRoundDown(o.addr.value())));
  }
  vmas_.emplace(start, Vma{start + len, o.prot, o.max_prot, o.shared, o.growsdown, o.mappable,
                           o.offset, o.name});
  if (o.populate) {
    bool bus = false;
    bool write = (o.prot & PROT_WRITE) && o.shared;
    if (PopulateLocked(start, start + len, write, &bus) == 0 && as_) {
      for (auto it = FindPmaLocked(start); it != pmas_.end() && it->first < start + len; ++it) {
        if (!it->second.mapped) MapPmaLocked(it->first, it->second, o.prot);
      }
    }
  }
  FlushLocked();
  return UserAddr(start);
}

Errno MemoryManager::MUnmap(UserAddr addr, uint64_t length) {
  uint64_t start = addr.value(), len;
  if (!IsPageAligned(start) || length == 0) return EINVAL;
  if (!PageRoundUp(length, &len) || start + len < start || start + len > kMaxUserAddress + kPageSize) {
    return EINVAL;
  }
  absl::MutexLock l(&mu_);
  UnmapLocked(start, start + len);
  FlushLocked();
  return 0;
}

void MemoryManager::UnmapLocked(uint64_t start, uint64_t end) {
  SplitVmaLocked(start);
  SplitVmaLocked(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end;) {
    it = vmas_.erase(it);
  }
  DropPmasLocked(start, end);
}

Errno MemoryManager::MProtect(UserAddr addr, uint64_t length, int prot) {
  uint64_t start = addr.value(), len;
  if (!IsPageAligned(start)) return EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) return EINVAL;
  if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) return EINVAL;
  prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
  if (!PageRoundUp(length, &len) || start + len < start) return ENOMEM;
  if (len == 0) return 0;
  uint64_t end = start + len;
  absl::MutexLock l(&mu_);
  // The whole range must be mapped (ENOMEM otherwise), checked first so a
  // failure changes nothing.
  for (uint64_t a = start; a < end;) {
    auto it = FindVmaLocked(a);
    if (it == vmas_.end()) return ENOMEM;
    if ((prot & ~it->second.max_prot) != 0) return EACCES;
    a = it->second.end;
  }
  SplitVmaLocked(start);
  SplitVmaLocked(end);
  SplitPmaLocked(start);
  SplitPmaLocked(end);
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->first < end; ++it) {
    it->second.prot = prot;
  }
  for (auto it = pmas_.lower_bound(start); it != pmas_.end() && it->first < end; ++it) {
    Pma& p = it->second;
    if (!p.mapped) continue;
    int want = PmaProt(p, prot);
    if (want != p.mapped_prot) {
      as_->Protect(UserAddr(it->first), p.end - it->first, want);
      p.mapped_prot = want;
    }
  }
  FlushLocked();
  return 0;
}

ErrorOr<UserAddr> MemoryManager::MRemap(UserAddr old_addr, uint64_t old_len_in,
                                       uint64_t new_len_in, int flags, UserAddr new_addr) {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return Err(EINVAL);
  if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) return Err(EINVAL);
  if (flags & MREMAP_DONTUNMAP) return Err(EINVAL);  // listed as unsupported
  uint64_t start = old_addr.value(), old_len, new_len;
  if (!IsPageAligned(start)) return Err(EINVAL);
  if (!PageRoundUp(old_len_in, &old_len) || !PageRoundUp(new_len_in, &new_len) || new_len == 0) {
    return Err(EINVAL);
  }
  absl::MutexLock l(&mu_);
  auto vit = FindVmaLocked(start);
  if (vit == vmas_.end() || start + old_len > vit->second.end) return Err(EFAULT);
  if (old_len == 0) return DuplicateSharedLocked(vit, start, new_len, flags, new_addr);
  if (flags & MREMAP_FIXED) {
    uint64_t dst = new_addr.value();
    if (!IsPageAligned(dst)) return Err(EINVAL);
    if (dst + new_len < dst || dst + new_len > kMaxUserAddress) return Err(EINVAL);
    if (dst < start + old_len && start < dst + new_len) return Err(EINVAL);
    if (OverlapsReserved(dst, dst + new_len)) return Err(ENOMEM);
  }
  if (!(flags & MREMAP_FIXED)) {
    if (new_len <= old_len) {
      UnmapLocked(start + new_len, start + old_len);
      FlushLocked();
      return old_addr;
    }
    // Grow in place when the VMA ends here and the space after is free.
    if (vit->second.end == start + old_len && RangeIsFreeLocked(start + old_len, start + new_len)) {
      vit->second.end = start + new_len;
      return old_addr;
    }
    if (!(flags & MREMAP_MAYMOVE)) return Err(ENOMEM);
  }
  // Move: new VMA elsewhere, pmas follow without copying.
  uint64_t dst;
  if (flags & MREMAP_FIXED) {
    dst = new_addr.value();
    UnmapLocked(dst, dst + new_len);
  } else {
    dst = TRY_ASSIGN(FindAvailableLocked(new_len, 0));
  }
  vit = FindVmaLocked(start);
  Vma moved = vit->second;
  moved.offset += start - vit->first;
  uint64_t keep = std::min(old_len, new_len);
  moved.end = dst + new_len;
  SplitPmaLocked(start);
  SplitPmaLocked(start + keep);
  std::vector<std::pair<uint64_t, Pma>> carried;
  for (auto it = pmas_.lower_bound(start); it != pmas_.end() && it->first < start + keep;) {
    Pma p = it->second;
    if (p.mapped) as_->Unmap(UserAddr(it->first), p.end - it->first);
    uint64_t nstart = dst + (it->first - start);
    p.end = dst + (p.end - start);
    p.mapped = false;
    carried.emplace_back(nstart, p);
    it = pmas_.erase(it);
  }
  UnmapLocked(start, start + old_len);
  vmas_.emplace(dst, std::move(moved));
  for (auto& [s, p] : carried) {
    auto [it, ok] = pmas_.emplace(s, p);
    SCHECK(ok);
    if (as_) MapPmaLocked(s, it->second, vmas_.find(dst)->second.prot);
  }
  FlushLocked();
  return UserAddr(dst);
}

void MemoryManager::SetBrkStart(UserAddr a) {
  absl::MutexLock l(&mu_);
  uint64_t s;
  SCHECK(PageRoundUp(a.value(), &s));
  brk_start_ = brk_ = s;
}

UserAddr MemoryManager::brk_start() const {
  absl::MutexLock l(&mu_);
  return UserAddr(brk_start_);
}

void MemoryManager::SetMmapBase(uint64_t base) {
  absl::MutexLock l(&mu_);
  mmap_base_ = base;
}

uint64_t MemoryManager::mmap_base() const {
  absl::MutexLock l(&mu_);
  return mmap_base_;
}

UserAddr MemoryManager::Brk(UserAddr addr) {
  absl::MutexLock l(&mu_);
  uint64_t want = addr.value();
  if (want < brk_start_ || want > kMaxUserAddress) return UserAddr(brk_);
  uint64_t old_top = 0, new_top = 0;
  if (!PageRoundUp(brk_, &old_top) || !PageRoundUp(want, &new_top)) return UserAddr(brk_);
  if (new_top > old_top) {
    if (!RangeIsFreeLocked(old_top, new_top)) return UserAddr(brk_);
    // Extend the heap VMA when it ends at the old top.
    auto it = old_top > brk_start_ ? FindVmaLocked(old_top - 1) : vmas_.end();
    if (it != vmas_.end() && it->second.name == "[heap]" && it->second.end == old_top) {
      it->second.end = new_top;
    } else {
      vmas_.emplace(old_top, Vma{new_top, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC,
                                 false, false, nullptr, 0, "[heap]"});
    }
  } else if (new_top < old_top) {
    UnmapLocked(new_top, old_top);
    FlushLocked();
  }
  brk_ = want;
  return UserAddr(brk_);
}

Errno MemoryManager::MAdvise(UserAddr addr, uint64_t length, int advice) {
  uint64_t start = addr.value(), len;
  if (!IsPageAligned(start)) return EINVAL;
  if (!PageRoundUp(length, &len) || start + len < start) return EINVAL;
  switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
    case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_KEEPONFORK: case MADV_WIPEONFORK:
      // Hints with no observable effect here (WIPEONFORK: see syscall table note).
      return 0;
    case MADV_DONTNEED:
    case MADV_FREE:
    case MADV_REMOVE: {
      if (len == 0) return 0;
      absl::MutexLock l(&mu_);
      for (uint64_t a = start; a < start + len;) {
        auto it = FindVmaLocked(a);
        if (it == vmas_.end()) return ENOMEM;
        a = it->second.end;
      }
      // Dropping the pmas makes private memory read as zero (or the file's
      // contents) on the next touch; shared pages stay in their file.
      DropPmasLocked(start, start + len);
      FlushLocked();
      return 0;
    }
    default:
      return EINVAL;
  }
}

// mremap(addr, 0, new_len, ...): a second mapping of the same shared
// object (Linux keeps this for old DOS emulators; some allocators use it).
ErrorOr<UserAddr> MemoryManager::DuplicateSharedLocked(VmaMap::iterator vit, uint64_t start,
                                                       uint64_t new_len, int flags,
                                                       UserAddr new_addr) {
  const Vma& src = vit->second;
  // Private mappings have no object to share a second view of.
  if (!src.shared || !src.mappable) return Err(EINVAL);
  // Growing "in place" from nothing is impossible: it must move.
  if (!(flags & MREMAP_MAYMOVE)) return Err(ENOMEM);
  uint64_t dst;
  if (flags & MREMAP_FIXED) {
    dst = new_addr.value();
    UnmapLocked(dst, dst + new_len);
  } else {
    dst = TRY_ASSIGN(FindAvailableLocked(new_len, 0));
  }
  vit = FindVmaLocked(start);  // UnmapLocked may have split VMAs
  if (vit == vmas_.end()) return Err(EFAULT);
  Vma dup = vit->second;
  dup.offset += start - vit->first;
  dup.end = dst + new_len;
  vmas_.emplace(dst, std::move(dup));
  FlushLocked();
  return UserAddr(dst);
}

bool MemoryManager::IsMapped(UserAddr addr, uint64_t len) {
  absl::ReaderMutexLock l(&mu_);
  for (uint64_t a = addr.value(); a < addr.value() + len;) {
    auto it = FindVmaLocked(a);
    if (it == vmas_.end()) return false;
    a = it->second.end;
  }
  return true;
}

std::vector<uint8_t> MemoryManager::Residency(UserAddr addr, uint64_t pages) {
  std::vector<uint8_t> out(pages, 0);
  absl::ReaderMutexLock l(&mu_);
  for (uint64_t i = 0; i < pages; i++) {
    uint64_t a = addr.value() + i * kPageSize;
    auto it = FindPmaLocked(a);
    if (it == pmas_.end()) continue;
    out[i] = mf_->PagePresent(it->second.off + (a - it->first)) ? 1 : 0;
  }
  return out;
}

void MemoryManager::SetExecutablePath(std::string p) {
  absl::MutexLock l(&mu_);
  exe_path_ = std::move(p);
}
std::string MemoryManager::executable_path() {
  absl::ReaderMutexLock l(&mu_);
  return exe_path_;
}
void MemoryManager::SetExecutable(vfs::VirtualDentry vd) {
  absl::MutexLock l(&mu_);
  exe_ = std::move(vd);
}
vfs::VirtualDentry MemoryManager::executable() {
  absl::ReaderMutexLock l(&mu_);
  return exe_;
}
void MemoryManager::SetArgvRange(AddrRange argv, AddrRange envp) {
  absl::MutexLock l(&mu_);
  argv_ = argv;
  envp_ = envp;
}
AddrRange MemoryManager::argv_range() {
  absl::ReaderMutexLock l(&mu_);
  return argv_;
}
AddrRange MemoryManager::envp_range() {
  absl::ReaderMutexLock l(&mu_);
  return envp_;
}
void MemoryManager::SetAuxv(std::vector<uint64_t> auxv) {
  absl::MutexLock l(&mu_);
  auxv_ = std::move(auxv);
}
std::vector<uint64_t> MemoryManager::auxv() {
  absl::ReaderMutexLock l(&mu_);
  return auxv_;
}

}  // namespace sentry
