// System V message queues: msgget(2), msgsnd(2), msgrcv(2), msgctl(2).
// The queues live in the kernel's MsgRegistry (sentry/kernel/ipc_msg.h).
#include <sys/ipc.h>
#include <sys/msg.h>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr size_t kMsgmax = 8192;
constexpr int kIpc64 = 0x100;

MsgRegistry::Caller CallerOf(Task& t) { return {t.creds(), t.tgid()}; }

// Runs `attempt` (EAGAIN: not yet) until it is done, sleeping on the
// queue's wait queue: EIDRM when the queue went away meanwhile. A signal
// ends the wait with ERESTARTNOHAND, as Linux: EINTR once a handler ran
// (whatever SA_RESTART says), a transparent restart otherwise.
template <typename F>
SysRet WaitOnQueue(Task& t, const std::shared_ptr<WaitQueue>& wq, F attempt) {
  ScopedWait w(wq.get(), t.waiter(), kEventAll);
  for (;;) {
    uint32_t seq = t.WakeSeq();
    SysRet r = attempt();
    if (r.error() == EINVAL) return SysRet::Err(EIDRM);
    if (r.error() != EAGAIN) return r;
    if (t.Block(seq) == BlockResult::kInterrupted) return SysRet::Err(ERESTARTNOHAND);
  }
}

}  // namespace

SysRet Msgget(Task& t, const SyscallArgs& a) {
  return TRY_ASSIGN(
      t.kernel().msg().Get(CallerOf(t), static_cast<key_t>(a[0]), static_cast<int>(a[1])));
}

SysRet Msgsnd(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  uint64_t size = a[2];
  int flags = static_cast<int>(a[3]);
  if (id < 0 || size > kMsgmax) return SysRet::Err(EINVAL);
  MsgRegistry::Message m;
  int64_t type;
  TRY(t.CopyIn(UserPtr<int64_t>(a[1]), &type));
  if (type < 1) return SysRet::Err(EINVAL);
  m.type = static_cast<long>(type);
  m.text.resize(size);
  if (size > 0) TRY(t.CopyInBytes(UserAddr(a[1] + sizeof(int64_t)), m.text.data(), size));
  MsgRegistry& r = t.kernel().msg();
  MsgRegistry::Caller c = CallerOf(t);
  std::shared_ptr<WaitQueue> wq;
  Errno e = r.TrySend(c, id, m, &wq);
  if (e != EAGAIN || (flags & IPC_NOWAIT)) return e;
  return WaitOnQueue(t, wq, [&]() -> SysRet { return r.TrySend(c, id, m, &wq); });
}

SysRet Msgrcv(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  int64_t max = static_cast<int64_t>(a[2]);
  long type = static_cast<long>(a[3]);
  int flags = static_cast<int>(a[4]);
  if (id < 0 || max < 0) return SysRet::Err(EINVAL);
  if ((flags & MSG_COPY) && (!(flags & IPC_NOWAIT) || (flags & MSG_EXCEPT))) {
    return SysRet::Err(EINVAL);
  }
  MsgRegistry& r = t.kernel().msg();
  MsgRegistry::Caller c = CallerOf(t);
  std::shared_ptr<WaitQueue> wq;
  MsgRegistry::Message got;
  auto attempt = [&]() -> SysRet {
    auto m = r.TryReceive(c, id, type, static_cast<size_t>(max), flags, &wq);
    if (!m.ok()) return SysRet::Err(m.error());
    got = std::move(*m);
    return 0;
  };
  SysRet res = attempt();
  if (res.error() == EAGAIN) {
    // Nothing that matches: ENOMSG at once with IPC_NOWAIT.
    if (flags & IPC_NOWAIT) return SysRet::Err(ENOMSG);
    res = WaitOnQueue(t, wq, attempt);
  }
  if (!res.ok()) return res;
  int64_t mtype = got.type;
  TRY(t.CopyOut(UserPtr<int64_t>(a[1]), mtype));
  if (!got.text.empty()) {
    TRY(t.CopyOutBytes(UserAddr(a[1] + sizeof(int64_t)), got.text.data(), got.text.size()));
  }
  return static_cast<int64_t>(got.text.size());
}

SysRet Msgctl(Task& t, const SyscallArgs& a) {
  int id = static_cast<int>(a[0]);
  int cmd = static_cast<int>(a[1]) & ~kIpc64;
  MsgRegistry& r = t.kernel().msg();
  MsgRegistry::Caller c = CallerOf(t);
  switch (cmd) {
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY: {
      struct msqid_ds ds;
      int ret = TRY_ASSIGN(r.Stat(c, id, cmd, &ds));
      TRY(t.CopyOutBytes(UserAddr(a[2]), &ds, sizeof(ds)));
      return ret;
    }
    case IPC_SET: {
      struct msqid_ds ds;
      TRY(t.CopyInBytes(UserAddr(a[2]), &ds, sizeof(ds)));
      return r.Set(c, id, ds);
    }
    case IPC_RMID:
      return r.Remove(c, id);
    case IPC_INFO:
    case MSG_INFO: {
      struct msginfo info;
      int ret = r.Info(&info, cmd == MSG_INFO);
      TRY(t.CopyOutBytes(UserAddr(a[2]), &info, sizeof(info)));
      return ret;
    }
    default:
      return SysRet::Err(EINVAL);
  }
}

}  // namespace sentry::sys
