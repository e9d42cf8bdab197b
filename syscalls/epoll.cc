// epoll_create/create1/ctl/wait/pwait/pwait2 and eventfd/eventfd2.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <climits>

#include "fs/anon/anon.h"
#include "fs/anon/epoll.h"
#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

// struct epoll_event is packed on x86-64: 12 bytes.
static_assert(sizeof(struct epoll_event) == 12);

ErrorOr<vfs::Epoll*> GetEpoll(const FilePtr& f) {
  auto* ep = dynamic_cast<vfs::Epoll*>(f.get());
  if (ep == nullptr) return Err(EINVAL);
  return ep;
}

SysRet DoEpollWait(Task& t, int epfd, uint64_t events_addr, int maxevents, absl::Time deadline) {
  if (maxevents <= 0 || maxevents > INT_MAX / static_cast<int>(sizeof(struct epoll_event))) {
    return SysRet::Err(EINVAL);
  }
  FilePtr f = TRY_ASSIGN(GetFile(t, epfd));
  vfs::Epoll* ep = TRY_ASSIGN(GetEpoll(f));
  // Linux's access_ok: the buffer must lie in the user address range.
  uint64_t len = static_cast<uint64_t>(maxevents) * sizeof(struct epoll_event);
  if (events_addr + len < events_addr || events_addr + len > kMaxUserAddress) {
    return SysRet::Err(EFAULT);
  }
  std::vector<struct epoll_event> ready;
  bool registered = false;
  SysRet result = 0;
  for (;;) {
    uint32_t seq = t.WakeSeq();
    ready = ep->Collect(maxevents);
    if (!ready.empty() || absl::Now() >= deadline) break;
    if (!registered) {
      ep->EventRegister(t.waiter(), POLLIN);
      registered = true;
      continue;  // collect again: a wakeup before registering is not lost
    }
    BlockResult b = t.Block(seq, deadline);
    if (b == BlockResult::kInterrupted) {
      // epoll_wait is never restarted, even with SA_RESTART.
      result = SysRet::Err(EINTR);
      break;
    }
  }
  if (registered) ep->EventUnregister(t.waiter());
  if (!result.ok()) return result;
  if (!ready.empty()) {
    TRY(t.CopyOutBytes(UserAddr(events_addr), ready.data(),
                       ready.size() * sizeof(struct epoll_event)));
  }
  return static_cast<int64_t>(ready.size());
}

absl::Time MillisDeadline(int timeout) {
  return timeout < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout);
}

SysRet DoEventfd(Task& t, uint64_t initval, uint64_t flags) {
  if (flags & ~uint64_t{EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE}) return SysRet::Err(EINVAL);
  // The counter starts from an unsigned int (the syscall's first argument).
  auto f = vfs::NewEventFd(static_cast<uint32_t>(initval), static_cast<uint32_t>(flags));
  return InstallFile(t, std::move(f), flags & EFD_CLOEXEC);
}

}  // namespace

SysRet EpollCreate(Task& t, const SyscallArgs& a) {
  if (static_cast<int>(a[0]) <= 0) return SysRet::Err(EINVAL);
  return InstallFile(t, vfs::NewEpoll(0), false);
}

SysRet EpollCreate1(Task& t, const SyscallArgs& a) {
  if (a[0] & ~uint64_t{EPOLL_CLOEXEC}) return SysRet::Err(EINVAL);
  return InstallFile(t, vfs::NewEpoll(0), a[0] & EPOLL_CLOEXEC);
}

SysRet EpollCtl(Task& t, const SyscallArgs& a) {
  int epfd = static_cast<int>(a[0]), op = static_cast<int>(a[1]), fd = static_cast<int>(a[2]);
  // ep_op_has_event: DEL ignores the event argument.
  struct epoll_event ev = {};
  if (op != EPOLL_CTL_DEL) TRY(t.CopyInBytes(UserAddr(a[3]), &ev, sizeof(ev)));
  FilePtr epf = TRY_ASSIGN(GetFile(t, epfd));
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  if (f->is_path()) return SysRet::Err(EBADF);
  // Files that cannot be polled (regular files, directories) are refused.
  if (auto attr = f->Stat(); attr.ok() && (S_ISREG(attr->mode) || S_ISDIR(attr->mode))) {
    return SysRet::Err(EPERM);
  }
  if (epf == f) return SysRet::Err(EINVAL);
  vfs::Epoll* ep = TRY_ASSIGN(GetEpoll(epf));
  if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL) return SysRet::Err(EINVAL);
  // EPOLLEXCLUSIVE allows only a few other flags with it.
  constexpr uint32_t kExclusiveOk = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP |
                                    EPOLLET | EPOLLEXCLUSIVE;
  if (op == EPOLL_CTL_ADD && (ev.events & EPOLLEXCLUSIVE) && (ev.events & ~kExclusiveOk)) {
    return SysRet::Err(EINVAL);
  }
  // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it Linux drops the flag.
  ev.events &= ~uint32_t{EPOLLWAKEUP};
  return ep->Ctl(op, fd, f, ev.events, ev.data.u64);
}

SysRet EpollWait(Task& t, const SyscallArgs& a) {
  return DoEpollWait(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]),
                     MillisDeadline(static_cast<int>(a[3])));
}

SysRet EpollPwait(Task& t, const SyscallArgs& a) {
  bool applied;
  TRY(ApplySigmask(t, a[4], a[5], &applied));
  return DoEpollWait(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]),
                     MillisDeadline(static_cast<int>(a[3])));
}

SysRet EpollPwait2(Task& t, const SyscallArgs& a) {
  absl::Time deadline = absl::InfiniteFuture();
  if (a[3] != 0) deadline = absl::Now() + TRY_ASSIGN(CopyInTimespecDuration(t, a[3]));
  bool applied;
  TRY(ApplySigmask(t, a[4], a[5], &applied));
  return DoEpollWait(t, static_cast<int>(a[0]), a[1], static_cast<int>(a[2]), deadline);
}

SysRet Eventfd(Task& t, const SyscallArgs& a) { return DoEventfd(t, a[0], 0); }
SysRet Eventfd2(Task& t, const SyscallArgs& a) { return DoEventfd(t, a[0], a[1]); }

}  // namespace sentry::sys
