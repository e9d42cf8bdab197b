#include "sentry/kernel/ipc_shm.h"

#include <linux/capability.h>
#include <sys/ipc.h>
#include <sys/stat.h>

#include "sentry/mm/anon_shared.h"

namespace sentry {
namespace {

constexpr int kSeqMultiplier = 32768;  // ipc ids: seq * 32768 + index
constexpr int kShmmni = 4096;
constexpr uint64_t kShmmax = ~uint64_t{0} - (uint64_t{1} << 24);
constexpr uint64_t kShmall = kShmmax;  // in pages, as Linux's default
constexpr int kShmLocked = 02000, kShmDest = 01000;  // mode bits shmctl shows

int64_t NowSec() { return static_cast<int64_t>(time(nullptr)); }

// What a mapping of a segment references: the segment's pages, shown in
// /proc/<pid>/maps with the shm device and the segment id as inode.
class ShmMappable : public Mappable {
 public:
  ShmMappable(std::shared_ptr<Mappable> inner, int id) : inner_(std::move(inner)), id_(id) {}
  ErrorOr<FileRange> Translate(uint64_t off, uint64_t max_len, bool write) override {
    return inner_->Translate(off, max_len, write);
  }
  uint64_t MapsDev() const override { return kShmDev; }
  uint64_t MapsIno() const override { return static_cast<uint64_t>(id_); }

 private:
  const std::shared_ptr<Mappable> inner_;
  const int id_;
};

}  // namespace

uint64_t ShmRegistry::Segment::nattch() const {
  if (strong) return static_cast<uint64_t>(strong.use_count() - 1);
  return static_cast<uint64_t>(weak.use_count());
}

void ShmRegistry::PurgeLocked() {
  for (auto it = segs_.begin(); it != segs_.end();) {
    if (it->second.removed && it->second.weak.expired()) {
      it = segs_.erase(it);
    } else {
      ++it;
    }
  }
}

ShmRegistry::Segment* ShmRegistry::FindLocked(int id) {
  if (id < 0) return nullptr;
  auto it = segs_.find(id % kSeqMultiplier);
  if (it == segs_.end() || it->second.id != id) return nullptr;
  if (it->second.removed && it->second.weak.expired()) return nullptr;
  return &it->second;
}

// ipcperms(): the owner's, group's or others' bits, CAP_IPC_OWNER bypasses.
ErrorOr<int> ShmRegistry::Get(const Caller& c, key_t key, uint64_t size, int flags) {
  absl::MutexLock l(&mu_);
  PurgeLocked();
  if (key != IPC_PRIVATE) {
    for (auto& [idx, s] : segs_) {
      if (s.removed || s.key != key) continue;
      if ((flags & IPC_CREAT) && (flags & IPC_EXCL)) return Err(EEXIST);
      TRY(IpcAccess(c, s.perm, flags & 0777));
      if (size > s.size) return Err(EINVAL);
      return s.id;
    }
    if (!(flags & IPC_CREAT)) return Err(ENOENT);
  }
  if (size < 1 || size > kShmmax) return Err(EINVAL);
  if (static_cast<int>(segs_.size()) >= kShmmni) return Err(ENOSPC);
  int index = 0;
  while (segs_.count(index)) ++index;
  auto inner = TRY_ASSIGN(NewAnonymousSharedMemory(mf_, size));
  Segment s;
  s.id = static_cast<int>(seq_ % 65536) * kSeqMultiplier + index;
  ++seq_;
  s.key = key;
  s.size = size;
  s.perm.__key = key;
  s.perm.uid = s.perm.cuid = c.creds.euid;
  s.perm.gid = s.perm.cgid = c.creds.egid;
  s.perm.mode = static_cast<unsigned short>(flags & 0777);
  s.perm.__seq = static_cast<unsigned short>(s.id / kSeqMultiplier);
  s.cpid = c.pid;
  s.ctime = NowSec();
  s.strong = std::make_shared<ShmMappable>(std::move(inner), s.id);
  int id = s.id;
  segs_[index] = std::move(s);
  return id;
}

ErrorOr<ShmRegistry::Attach> ShmRegistry::ForAttach(const Caller& c, int id, bool write,
                                                   bool exec) {
  absl::MutexLock l(&mu_);
  Segment* s = FindLocked(id);
  if (s == nullptr) return Err(EINVAL);
  TRY(IpcAccess(c, s->perm, S_IRUSR | (write ? S_IWUSR : 0) | (exec ? S_IXUSR : 0)));
  Attach a;
  a.mappable = s->strong ? s->strong : s->weak.lock();
  if (!a.mappable) return Err(EIDRM);
  a.size = s->size;
  s->atime = NowSec();
  s->lpid = c.pid;
  return a;
}

ErrorOr<uint64_t> ShmRegistry::SizeOf(int id) {
  absl::MutexLock l(&mu_);
  Segment* s = FindLocked(id);
  if (s == nullptr) return Err(EINVAL);
  return s->size;
}

void ShmRegistry::Detached(int id, int32_t pid) {
  absl::MutexLock l(&mu_);
  if (Segment* s = FindLocked(id)) {
    s->dtime = NowSec();
    s->lpid = pid;
  }
  PurgeLocked();
}

void ShmRegistry::FillLocked(const Segment& s, struct shmid_ds* out) {
  memset(out, 0, sizeof(*out));
  out->shm_perm = s.perm;
  out->shm_perm.mode = static_cast<unsigned short>(
      s.perm.mode | (s.removed ? kShmDest : 0) | (s.locked ? kShmLocked : 0));
  out->shm_perm.__key = s.key;
  out->shm_segsz = s.size;
  out->shm_atime = s.atime;
  out->shm_dtime = s.dtime;
  out->shm_ctime = s.ctime;
  out->shm_cpid = s.cpid;
  out->shm_lpid = s.lpid;
  out->shm_nattch = s.nattch();
}

ErrorOr<int> ShmRegistry::Stat(const Caller& c, int id_or_index, int cmd, struct shmid_ds* out) {
  absl::MutexLock l(&mu_);
  PurgeLocked();
  Segment* s = nullptr;
  if (cmd == IPC_STAT) {
    s = FindLocked(id_or_index);
  } else {
    // SHM_STAT(_ANY) take an index and return the id.
    auto it = segs_.find(id_or_index);
    if (it != segs_.end()) s = &it->second;
  }
  if (s == nullptr) return Err(EINVAL);
  if (cmd != SHM_STAT_ANY) TRY(IpcAccess(c, s->perm, S_IRUSR));
  FillLocked(*s, out);
  return cmd == IPC_STAT ? 0 : s->id;
}

Errno ShmRegistry::Set(const Caller& c, int id, const struct shmid_ds& in) {
  absl::MutexLock l(&mu_);
  Segment* s = FindLocked(id);
  if (s == nullptr) return EINVAL;
  if (!IpcOwner(c, s->perm)) return EPERM;
  s->perm.uid = in.shm_perm.uid;
  s->perm.gid = in.shm_perm.gid;
  s->perm.mode = static_cast<unsigned short>((s->perm.mode & ~0777) | (in.shm_perm.mode & 0777));
  s->ctime = NowSec();
  return 0;
}

Errno ShmRegistry::Remove(const Caller& c, int id) {
  absl::MutexLock l(&mu_);
  Segment* s = FindLocked(id);
  if (s == nullptr) return EINVAL;
  if (!IpcOwner(c, s->perm)) return EPERM;
  if (s->nattch() == 0) {
    segs_.erase(id % kSeqMultiplier);
    return 0;
  }
  // Attached still: the key is free for a new segment now, and the pages
  // live as long as the mappings.
  s->removed = true;
  s->key = IPC_PRIVATE;
  s->weak = s->strong;
  s->strong.reset();
  s->ctime = NowSec();
  return 0;
}

Errno ShmRegistry::Lock(const Caller& c, int id, bool lock) {
  absl::MutexLock l(&mu_);
  Segment* s = FindLocked(id);
  if (s == nullptr) return EINVAL;
  if (!c.creds.HasCap(CAP_IPC_LOCK) && !IpcOwner(c, s->perm)) return EPERM;
  // Memory is never swapped; only the flag is kept.
  s->locked = lock;
  return 0;
}

int ShmRegistry::Info(struct shminfo* info) {
  absl::MutexLock l(&mu_);
  memset(info, 0, sizeof(*info));
  info->shmmax = kShmmax;
  info->shmmin = 1;
  info->shmmni = kShmmni;
  info->shmseg = kShmmni;
  info->shmall = kShmall;
  return segs_.empty() ? 0 : segs_.rbegin()->first;
}

int ShmRegistry::Usage(struct shm_info* info) {
  absl::MutexLock l(&mu_);
  PurgeLocked();
  memset(info, 0, sizeof(*info));
  info->used_ids = static_cast<int>(segs_.size());
  for (const auto& [idx, s] : segs_) info->shm_tot += (s.size + 4095) / 4096;
  info->shm_rss = info->shm_tot;
  return segs_.empty() ? 0 : segs_.rbegin()->first;
}

}  // namespace sentry
