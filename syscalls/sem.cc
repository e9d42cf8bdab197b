// System V semaphores: semget(2), semop(2), semtimedop(2), semctl(2). The
// sets live in the kernel's SemRegistry (sentry/kernel/ipc_sem.h).
#include <sys/ipc.h>
#include <sys/sem.h>

#include <optional>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr int kSemopm = 500;
constexpr int kIpc64 = 0x100;

SemRegistry::Caller CallerOf(Task& t) { return {t.creds(), t.tgid()}; }

SemUndo* UndoOf(Task& t) {
  Kernel& k = t.kernel();
  absl::MutexLock l(&k.tasks_mu_);
  ThreadGroup* g = t.tg();
  if (!g->sem_undo) {
    g->sem_undo = std::make_shared<SemUndo>();
    k.sem().Track(g->sem_undo);
  }
  return g->sem_undo.get();
}

SysRet DoSemop(Task& t, int id, uint64_t sops_addr, uint64_t nsops,
               std::optional<absl::Time> deadline) {
  if (nsops < 1 || id < 0) return SysRet::Err(EINVAL);
  if (nsops > kSemopm) return SysRet::Err(E2BIG);
  std::vector<struct sembuf> ops(nsops);
  TRY(t.CopyInBytes(UserAddr(sops_addr), ops.data(), nsops * sizeof(struct sembuf)));
  bool undo = false;
  for (const auto& op : ops) undo |= (op.sem_flg & SEM_UNDO) != 0;
  SemUndo* u = undo ? UndoOf(t) : nullptr;
  SemRegistry& r = t.kernel().sem();
  SemRegistry::Caller c = CallerOf(t);
  SemRegistry::Blocked b;
  std::shared_ptr<WaitQueue> wq;
  TRY(r.TryOp(c, id, ops, u, &b, &wq));
  if (b.num < 0) return 0;
  // Sleep until the set changes, counting in semncnt/semzcnt meanwhile.
  ScopedWait w(wq.get(), t.waiter(), kEventAll);
  SemRegistry::Blocked counted = b;
  r.Waiting(id, counted.num, counted.zero, +1);
  SysRet result = 0;
  for (;;) {
    uint32_t seq = t.WakeSeq();
    Errno e = r.TryOp(c, id, ops, u, &b, &wq);
    if (e == EINVAL) e = EIDRM;  // the set was removed while we waited
    if (e != 0) {
      result = SysRet::Err(e);
      break;
    }
    if (b.num < 0) break;
    if (b.num != counted.num || b.zero != counted.zero) {
      r.Waiting(id, counted.num, counted.zero, -1);
      counted = b;
      r.Waiting(id, counted.num, counted.zero, +1);
    }
    BlockResult br = t.Block(seq, deadline.value_or(absl::InfiniteFuture()));
    // semop is never restarted after a signal (EINTR, as Linux).
    if (br == BlockResult::kInterrupted) {
      result = SysRet::Err(EINTR);
      break;
    }
    if (br == BlockResult::kTimedOut) {
      result = SysRet::Err(EAGAIN);
      break;
    }
  }
  r.Waiting(id, counted.num, counted.zero, -1);
  return result;
}

}  // namespace

SysRet Semget(Task& t, const SyscallArgs& a) {
  return TRY_ASSIGN(t.kernel().sem().Get(CallerOf(t), static_cast<key_t>(a[0]),
                                         static_cast<int>(a[1]), static_cast<int>(a[2])));
}

SysRet Semop(Task& t, const SyscallArgs& a) {
  return DoSemop(t, static_cast<int>(a[0]), a[1], a[2], std::nullopt);
}

SysRet Semtimedop(Task& t, const SyscallArgs& a) {
  std::optional<absl::Time> deadline;
  if (a[3] != 0) {
    absl::Duration d = TRY_ASSIGN(CopyInTimespecDuration(t, a[3]));
    deadline = absl::Now() + d;
  }
  return DoSemop(t, static_cast<int>(a[0]), a[1], a[2], deadline);
}

SysRet Semctl(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  int num = static_cast<int>(a[1]);
  int cmd = static_cast<int>(a[2]) & ~kIpc64;
  uint64_t arg = a[3];  // union semun, passed by value
  SemRegistry& r = t.kernel().sem();
  SemRegistry::Caller c = CallerOf(t);
  switch (cmd) {
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY: {
      struct semid_ds ds;
      int ret = TRY_ASSIGN(r.Stat(c, id, cmd, &ds));
      TRY(t.CopyOutBytes(UserAddr(arg), &ds, sizeof(ds)));
      return ret;
    }
    case IPC_SET: {
      struct semid_ds ds;
      TRY(t.CopyInBytes(UserAddr(arg), &ds, sizeof(ds)));
      return r.Set(c, id, ds);
    }
    case IPC_RMID:
      return r.Remove(c, id);
    case IPC_INFO:
    case SEM_INFO: {
      struct seminfo info;
      int ret = r.Info(&info, cmd == SEM_INFO);
      TRY(t.CopyOutBytes(UserAddr(arg), &info, sizeof(info)));
      return ret;
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
      return TRY_ASSIGN(r.GetValue(c, id, num, cmd));
    case SETVAL:
      return r.SetValue(c, id, num, static_cast<int>(static_cast<uint32_t>(arg)));
    case GETALL: {
      std::vector<uint16_t> vals = TRY_ASSIGN(r.GetAll(c, id));
      TRY(t.CopyOutBytes(UserAddr(arg), vals.data(), vals.size() * sizeof(uint16_t)));
      return 0;
    }
    case SETALL: {
      int n = TRY_ASSIGN(r.NumSems(c, id, /*need_read=*/false));
      std::vector<uint16_t> vals(static_cast<size_t>(n));
      TRY(t.CopyInBytes(UserAddr(arg), vals.data(), vals.size() * sizeof(uint16_t)));
      return r.SetAll(c, id, vals);
    }
    default:
      return SysRet::Err(EINVAL);
  }
}

}  // namespace sentry::sys
