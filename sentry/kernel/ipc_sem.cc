#include "sentry/kernel/ipc_sem.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>

namespace sentry {
namespace {

constexpr int kSeqMultiplier = 32768;
constexpr int kSemmsl = 32000;  // semaphores per set
constexpr int kSemmni = 32000;  // sets
constexpr int kSemmns = kSemmsl * kSemmni;
constexpr int kSemopm = 500;
constexpr int kSemvmx = 32767;  // largest value
constexpr int kSemaem = kSemvmx;  // largest undo adjustment

int64_t NowSec() { return static_cast<int64_t>(time(nullptr)); }

}  // namespace

SemRegistry::SemSet* SemRegistry::FindLocked(int id) {
  if (id < 0) return nullptr;
  auto it = sets_.find(id % kSeqMultiplier);
  if (it == sets_.end() || it->second.id != id) return nullptr;
  return &it->second;
}

void SemRegistry::Track(const std::shared_ptr<SemUndo>& u) {
  absl::MutexLock l(&mu_);
  undos_.erase(std::remove_if(undos_.begin(), undos_.end(),
                              [](const std::weak_ptr<SemUndo>& w) { return w.expired(); }),
               undos_.end());
  undos_.push_back(u);
}

ErrorOr<int> SemRegistry::Get(const Caller& c, key_t key, int nsems, int flags) {
  absl::MutexLock l(&mu_);
  if (key != IPC_PRIVATE) {
    for (auto& [idx, s] : sets_) {
      if (s.key != key) continue;
      if ((flags & IPC_CREAT) && (flags & IPC_EXCL)) return Err(EEXIST);
      TRY(IpcAccess(c, s.perm, flags & 0777));
      if (nsems > static_cast<int>(s.sems.size())) return Err(EINVAL);
      return s.id;
    }
    if (!(flags & IPC_CREAT)) return Err(ENOENT);
  }
  if (nsems <= 0 || nsems > kSemmsl) return Err(EINVAL);
  if (static_cast<int>(sets_.size()) >= kSemmni) return Err(ENOSPC);
  int index = 0;
  while (sets_.count(index)) ++index;
  SemSet s;
  s.id = static_cast<int>(seq_ % 65536) * kSeqMultiplier + index;
  ++seq_;
  s.key = key;
  s.perm.__key = key;
  s.perm.uid = s.perm.cuid = c.creds.euid;
  s.perm.gid = s.perm.cgid = c.creds.egid;
  s.perm.mode = static_cast<unsigned short>(flags & 0777);
  s.perm.__seq = static_cast<unsigned short>(s.id / kSeqMultiplier);
  s.sems.resize(static_cast<size_t>(nsems));
  s.ctime = NowSec();
  int id = s.id;
  sets_[index] = std::move(s);
  return id;
}

Errno SemRegistry::TryOp(const Caller& c, int id, const std::vector<struct sembuf>& ops,
                         SemUndo* undo, Blocked* blocked, std::shared_ptr<WaitQueue>* wq) {
  std::shared_ptr<WaitQueue> notify;
  {
    absl::MutexLock l(&mu_);
    SemSet* s = FindLocked(id);
    if (s == nullptr) return EINVAL;
    const int n = static_cast<int>(s->sems.size());
    bool alter = false;
    for (const auto& op : ops) {
      if (op.sem_num >= n) return EFBIG;
      if (op.sem_op != 0) alter = true;
    }
    TRY(IpcAccess(c, s->perm, alter ? S_IWUSR : S_IRUSR));
    *wq = s->wq;
    std::vector<int> vals(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) vals[static_cast<size_t>(i)] = s->sems[static_cast<size_t>(i)].val;
    for (const auto& op : ops) {
      int& v = vals[op.sem_num];
      if (op.sem_op > 0) {
        if (v + op.sem_op > kSemvmx) return ERANGE;
        v += op.sem_op;
      } else if (op.sem_op == 0) {
        if (v != 0) {
          if (op.sem_flg & IPC_NOWAIT) return EAGAIN;
          *blocked = {op.sem_num, true};
          return 0;
        }
      } else {
        if (v + op.sem_op < 0) {
          if (op.sem_flg & IPC_NOWAIT) return EAGAIN;
          *blocked = {op.sem_num, false};
          return 0;
        }
        v += op.sem_op;
      }
    }
    if (undo != nullptr) {
      absl::MutexLock ul(&undo->mu);
      std::vector<int> adj = undo->adj.count(id) ? undo->adj[id] : std::vector<int>(n, 0);
      for (const auto& op : ops) {
        if (!(op.sem_flg & SEM_UNDO)) continue;
        int a = adj[op.sem_num] - op.sem_op;
        if (a < -kSemaem - 1 || a > kSemaem) return ERANGE;
        adj[op.sem_num] = a;
      }
      if (std::any_of(ops.begin(), ops.end(), [](const sembuf& o) { return o.sem_flg & SEM_UNDO; })) {
        undo->adj[id] = adj;
      }
    }
    for (int i = 0; i < n; i++) s->sems[static_cast<size_t>(i)].val = vals[static_cast<size_t>(i)];
    for (const auto& op : ops) s->sems[op.sem_num].pid = c.pid;
    s->otime = NowSec();
    *blocked = {};
    if (alter) notify = s->wq;
  }
  if (notify) notify->Notify(kEventAll);
  return 0;
}

void SemRegistry::Waiting(int id, int num, bool zero, int delta) {
  absl::MutexLock l(&mu_);
  SemSet* s = FindLocked(id);
  if (s == nullptr || num < 0 || num >= static_cast<int>(s->sems.size())) return;
  (zero ? s->sems[static_cast<size_t>(num)].zcnt : s->sems[static_cast<size_t>(num)].ncnt) += delta;
}

ErrorOr<int> SemRegistry::NumSems(const Caller& c, int id, bool need_read) {
  absl::MutexLock l(&mu_);
  SemSet* s = FindLocked(id);
  if (s == nullptr) return Err(EINVAL);
  if (need_read) TRY(IpcAccess(c, s->perm, S_IRUSR));
  return static_cast<int>(s->sems.size());
}

ErrorOr<int> SemRegistry::GetValue(const Caller& c, int id, int num, int cmd) {
  absl::MutexLock l(&mu_);
  SemSet* s = FindLocked(id);
  if (s == nullptr) return Err(EINVAL);
  TRY(IpcAccess(c, s->perm, S_IRUSR));
  if (num < 0 || num >= static_cast<int>(s->sems.size())) return Err(EINVAL);
  const Sem& m = s->sems[static_cast<size_t>(num)];
  switch (cmd) {
    case GETVAL: return m.val;
    case GETPID: return m.pid;
    case GETNCNT: return m.ncnt;
    case GETZCNT: return m.zcnt;
    default: return Err(EINVAL);
  }
}

void SemRegistry::ClearUndoLocked(int id, int num) {
  for (const auto& w : undos_) {
    auto u = w.lock();
    if (!u) continue;
    absl::MutexLock ul(&u->mu);
    auto it = u->adj.find(id);
    if (it == u->adj.end()) continue;
    if (num < 0) {
      u->adj.erase(it);
    } else if (num < static_cast<int>(it->second.size())) {
      it->second[static_cast<size_t>(num)] = 0;
    }
  }
}

Errno SemRegistry::SetValue(const Caller& c, int id, int num, int val) {
  std::shared_ptr<WaitQueue> wq;
  {
    absl::MutexLock l(&mu_);
    SemSet* s = FindLocked(id);
    if (s == nullptr) return EINVAL;
    if (num < 0 || num >= static_cast<int>(s->sems.size())) return EINVAL;
    if (val < 0 || val > kSemvmx) return ERANGE;
    TRY(IpcAccess(c, s->perm, S_IWUSR));
    s->sems[static_cast<size_t>(num)].val = val;
    s->sems[static_cast<size_t>(num)].pid = c.pid;
    s->ctime = NowSec();
    // SETVAL forgets every process's adjustment of this semaphore.
    ClearUndoLocked(id, num);
    wq = s->wq;
  }
  wq->Notify(kEventAll);
  return 0;
}

ErrorOr<std::vector<uint16_t>> SemRegistry::GetAll(const Caller& c, int id) {
  absl::MutexLock l(&mu_);
  SemSet* s = FindLocked(id);
  if (s == nullptr) return Err(EINVAL);
  TRY(IpcAccess(c, s->perm, S_IRUSR));
  std::vector<uint16_t> out;
  for (const Sem& m : s->sems) out.push_back(static_cast<uint16_t>(m.val));
  return out;
}

Errno SemRegistry::SetAll(const Caller& c, int id, const std::vector<uint16_t>& vals) {
  std::shared_ptr<WaitQueue> wq;
  {
    absl::MutexLock l(&mu_);
    SemSet* s = FindLocked(id);
    if (s == nullptr) return EINVAL;
    TRY(IpcAccess(c, s->perm, S_IWUSR));
    if (vals.size() != s->sems.size()) return EINVAL;
    for (uint16_t v : vals) {
      if (v > kSemvmx) return ERANGE;
    }
    for (size_t i = 0; i < vals.size(); i++) {
      s->sems[i].val = vals[i];
      s->sems[i].pid = c.pid;
    }
    s->ctime = NowSec();
    ClearUndoLocked(id, -1);
    wq = s->wq;
  }
  wq->Notify(kEventAll);
  return 0;
}

ErrorOr<int> SemRegistry::Stat(const Caller& c, int id_or_index, int cmd, struct semid_ds* out) {
  absl::MutexLock l(&mu_);
  SemSet* s = nullptr;
  if (cmd == IPC_STAT) {
    s = FindLocked(id_or_index);
  } else {
    auto it = sets_.find(id_or_index);
    if (it != sets_.end()) s = &it->second;
  }
  if (s == nullptr) return Err(EINVAL);
  if (cmd != SEM_STAT_ANY) TRY(IpcAccess(c, s->perm, S_IRUSR));
  memset(out, 0, sizeof(*out));
  out->sem_perm = s->perm;
  out->sem_perm.__key = s->key;
  out->sem_otime = s->otime;
  out->sem_ctime = s->ctime;
  out->sem_nsems = s->sems.size();
  return cmd == IPC_STAT ? 0 : s->id;
}

Errno SemRegistry::Set(const Caller& c, int id, const struct semid_ds& in) {
  absl::MutexLock l(&mu_);
  SemSet* s = FindLocked(id);
  if (s == nullptr) return EINVAL;
  if (!IpcOwner(c, s->perm)) return EPERM;
  s->perm.uid = in.sem_perm.uid;
  s->perm.gid = in.sem_perm.gid;
  s->perm.mode = static_cast<unsigned short>((s->perm.mode & ~0777) | (in.sem_perm.mode & 0777));
  s->ctime = NowSec();
  return 0;
}

Errno SemRegistry::Remove(const Caller& c, int id) {
  std::shared_ptr<WaitQueue> wq;
  {
    absl::MutexLock l(&mu_);
    SemSet* s = FindLocked(id);
    if (s == nullptr) return EINVAL;
    if (!IpcOwner(c, s->perm)) return EPERM;
    wq = s->wq;
    ClearUndoLocked(id, -1);
    sets_.erase(id % kSeqMultiplier);
  }
  // Sleepers wake, find the set gone, and fail with EIDRM.
  wq->Notify(kEventAll);
  return 0;
}

int SemRegistry::Info(struct seminfo* info, bool usage) {
  absl::MutexLock l(&mu_);
  memset(info, 0, sizeof(*info));
  info->semmni = kSemmni;
  info->semmsl = kSemmsl;
  info->semmns = kSemmns;
  info->semopm = kSemopm;
  info->semvmx = kSemvmx;
  info->semaem = kSemaem;
  info->semmap = kSemmns;
  info->semmnu = kSemmns;
  info->semume = kSemopm;
  info->semusz = 20;
  if (usage) {
    // SEM_INFO: sets in use and semaphores in them.
    info->semusz = static_cast<int>(sets_.size());
    int total = 0;
    for (const auto& [i, s] : sets_) total += static_cast<int>(s.sems.size());
    info->semaem = total;
  }
  return sets_.empty() ? 0 : sets_.rbegin()->first;
}

void SemRegistry::ApplyUndo(SemUndo* undo, int32_t pid) {
  std::vector<std::shared_ptr<WaitQueue>> wake;
  {
    absl::MutexLock l(&mu_);
    absl::MutexLock ul(&undo->mu);
    for (auto& [id, adj] : undo->adj) {
      SemSet* s = FindLocked(id);
      if (s == nullptr) continue;
      for (size_t i = 0; i < adj.size() && i < s->sems.size(); i++) {
        if (adj[i] == 0) continue;
        // exit_sem: clamp into [0, SEMVMX] rather than fail.
        s->sems[i].val = std::clamp(s->sems[i].val + adj[i], 0, kSemvmx);
        s->sems[i].pid = pid;
      }
      s->otime = NowSec();
      wake.push_back(s->wq);
    }
    undo->adj.clear();
  }
  for (auto& w : wake) w->Notify(kEventAll);
}

}  // namespace sentry
