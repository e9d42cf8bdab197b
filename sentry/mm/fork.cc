// fork() and the /proc views of a MemoryManager.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "sentry/base/log.h"
#include "sentry/mm/mm.h"

namespace sentry {

ErrorOr<std::shared_ptr<MemoryManager>> MemoryManager::Fork() {
  auto child = std::make_shared<MemoryManager>(platform_, mf_);
  absl::MutexLock l(&mu_);
  absl::MutexLock cl(&child->mu_);
  child->vmas_ = vmas_;
  child->brk_start_ = brk_start_;
  child->brk_ = brk_;
  child->mmap_base_ = mmap_base_;
  child->exe_path_ = exe_path_;
  child->exe_ = exe_;
  child->argv_ = argv_;
  child->envp_ = envp_;
  child->auxv_ = auxv_;
  for (auto& [start, p] : pmas_) {
    auto vit = FindVmaLocked(start);
    SCHECK(vit != vmas_.end());
    const Vma& v = vit->second;
    mf_->IncRef({p.off, p.off + (p.end - start)});
    if (v.shared) {
      child->pmas_.emplace(start, Pma{p.end, p.off, false, false, 0});
      continue;
    }
    // Private: both sides now share the pages until one writes.
    child->pmas_.emplace(start, Pma{p.end, p.off, true, false, 0});
    if (!p.cow) {
      p.cow = true;
      if (p.mapped && (p.mapped_prot & PROT_WRITE)) {
        int prot = PmaProt(p, v.prot);
        as_->Protect(UserAddr(start), p.end - start, prot);
        p.mapped_prot = prot;
      }
    }
  }
  FlushLocked();
  return child;
}

std::string MemoryManager::MapsText() {
  absl::ReaderMutexLock l(&mu_);
  std::string out;
  for (const auto& [start, v] : vmas_) {
    std::string line = absl::StrFormat(
        "%08x-%08x %c%c%c%c %08x %02x:%02x %u", start, v.end, (v.prot & PROT_READ) ? 'r' : '-',
        (v.prot & PROT_WRITE) ? 'w' : '-', (v.prot & PROT_EXEC) ? 'x' : '-', v.shared ? 's' : 'p',
        v.mappable ? v.offset : 0, v.mappable ? (v.mappable->MapsDev() >> 8) & 0xfff : 0,
        v.mappable ? v.mappable->MapsDev() & 0xff : 0, v.mappable ? v.mappable->MapsIno() : 0);
    if (!v.name.empty()) {
      line.resize(std::max<size_t>(line.size() + 1, 73), ' ');
      line += v.name;
    }
    out += line;
    out += '\n';
  }
  return out;
}

std::vector<VmaStat> MemoryManager::VmaStats() {
  absl::ReaderMutexLock l(&mu_);
  std::vector<VmaStat> out;
  out.reserve(vmas_.size());
  // Both maps are sorted and non-overlapping: one merge-like pass.
  auto p = pmas_.begin();
  for (const auto& [start, v] : vmas_) {
    VmaStat s;
    s.start = start;
    s.end = v.end;
    s.prot = v.prot;
    s.max_prot = v.max_prot;
    s.shared = v.shared;
    s.growsdown = v.growsdown;
    s.file = v.mappable != nullptr;
    s.offset = v.mappable ? v.offset : 0;
    s.dev = v.mappable ? v.mappable->MapsDev() : 0;
    s.ino = v.mappable ? v.mappable->MapsIno() : 0;
    s.name = v.name;
    while (p != pmas_.end() && p->second.end <= start) ++p;
    for (auto q = p; q != pmas_.end() && q->first < v.end; ++q) {
      s.resident += std::min(q->second.end, v.end) - std::max(q->first, start);
    }
    out.push_back(std::move(s));
  }
  return out;
}

uint64_t MemoryManager::ResidentBytes() {
  absl::ReaderMutexLock l(&mu_);
  uint64_t n = 0;
  for (const auto& [start, p] : pmas_) n += p.end - start;
  return n;
}

uint64_t MemoryManager::VirtualBytes() {
  absl::ReaderMutexLock l(&mu_);
  uint64_t n = 0;
  for (const auto& [start, v] : vmas_) n += v.end - start;
  return n;
}

}  // namespace sentry
