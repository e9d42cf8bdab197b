#include "fs/anon/signalfd.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>

#include <cstring>

#include "fs/anon/anon.h"
#include "fs/vfs/iosequence.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/thread_group.h"

namespace sentry::vfs {
namespace {

// signalfd_copyinfo: which siginfo fields mean something depends on how
// the signal was sent.
struct signalfd_siginfo ToSignalfdInfo(const siginfo_t& si) {
  struct signalfd_siginfo s;
  memset(&s, 0, sizeof(s));
  s.ssi_signo = static_cast<uint32_t>(si.si_signo);
  s.ssi_errno = si.si_errno;
  s.ssi_code = si.si_code;
  const int sig = si.si_signo;
  const bool fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
                      sig == SIGTRAP) && si.si_code > 0;
  if (fault) {
    s.ssi_addr = reinterpret_cast<uint64_t>(si.si_addr);
  } else if (sig == SIGCHLD && si.si_code > 0) {
    s.ssi_pid = static_cast<uint32_t>(si.si_pid);
    s.ssi_uid = si.si_uid;
    s.ssi_status = si.si_status;
    s.ssi_utime = static_cast<uint64_t>(si.si_utime);
    s.ssi_stime = static_cast<uint64_t>(si.si_stime);
  } else if (si.si_code == SI_TIMER) {
    s.ssi_tid = static_cast<uint32_t>(si.si_timerid);
    s.ssi_overrun = static_cast<uint32_t>(si.si_overrun);
    s.ssi_int = si.si_value.sival_int;
    s.ssi_ptr = reinterpret_cast<uint64_t>(si.si_value.sival_ptr);
  } else {
    // kill, tgkill, sigqueue: sender's pid and uid, and the queued value.
    s.ssi_pid = static_cast<uint32_t>(si.si_pid);
    s.ssi_uid = si.si_uid;
    if (si.si_code == SI_QUEUE || si.si_code == SI_MESGQ || sig >= SIGRTMIN) {
      s.ssi_int = si.si_value.sival_int;
      s.ssi_ptr = reinterpret_cast<uint64_t>(si.si_value.sival_ptr);
    }
  }
  return s;
}

}  // namespace

SignalFd::~SignalFd() {
  absl::MutexLock l(&mu_);
  for (auto& [w, g] : registered_) g->signal_events.Unregister(w);
}

void SignalFd::SetMask(SigSet mask) {
  mask_.store(mask & ~kUnblockableSignals);
  // What a waiter waits for changed: let it look again (through its
  // queue, whose lock keeps the waiter alive while it is notified).
  std::vector<std::shared_ptr<ThreadGroup>> groups;
  {
    absl::MutexLock l(&mu_);
    for (auto& [w, g] : registered_) groups.push_back(g);
  }
  for (auto& g : groups) g->signal_events.Notify(POLLIN);
}

SysRet SignalFd::Read(Task* t, IOSequence& dst) {
  if (t == nullptr) return SysRet::Err(EINVAL);
  size_t room = dst.remaining() / sizeof(struct signalfd_siginfo);
  if (room == 0) return SysRet::Err(EINVAL);
  int64_t done = 0;
  while (room-- > 0) {
    siginfo_t si;
    if (!t->DequeueSignal(mask_.load(), &si)) break;
    struct signalfd_siginfo s = ToSignalfdInfo(si);
    ErrorOr<size_t> n = dst.CopyOut(&s, sizeof(s));
    if (!n.ok() || *n != sizeof(s)) {
      // The signal is lost, as when Linux's copy to user fails.
      if (done == 0) return SysRet::Err(EFAULT);
      break;
    }
    done += sizeof(s);
  }
  if (done == 0) return SysRet::Err(EAGAIN);
  return done;
}

uint32_t SignalFd::Readiness(uint32_t mask) {
  Task* t = Task::Current();
  if (t == nullptr) return 0;
  return (t->PendingSet() & mask_.load()) ? (POLLIN | POLLRDNORM) & mask : 0;
}

void SignalFd::EventRegister(Waiter* w, uint32_t mask) {
  Task* t = Task::Current();
  if (t == nullptr) return;
  std::shared_ptr<ThreadGroup> g = t->tg_ptr();
  {
    absl::MutexLock l(&mu_);
    auto [it, fresh] = registered_.emplace(w, g);
    if (!fresh) return;
  }
  g->signal_events.Register(w, mask);
}

void SignalFd::EventUnregister(Waiter* w) {
  std::shared_ptr<ThreadGroup> g;
  {
    absl::MutexLock l(&mu_);
    auto it = registered_.find(w);
    if (it == registered_.end()) return;
    g = std::move(it->second);
    registered_.erase(it);
  }
  g->signal_events.Unregister(w);
}

std::shared_ptr<FileDescription> NewSignalFd(SigSet mask, uint32_t flags) {
  auto f = std::make_shared<SignalFd>(mask & ~kUnblockableSignals);
  f->Init(VirtualDentry(), O_RDWR | (flags & O_NONBLOCK));
  return f;
}

}  // namespace sentry::vfs
