// poll, ppoll, select, pselect6 over files' readiness.
#include <poll.h>
#include <sys/select.h>

#include <cstring>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

struct PollItem {
  int fd;
  uint32_t events;
  uint32_t revents = 0;
  FilePtr file;
};

// Waits until one item is ready, the deadline passes, or a signal comes.
// Returns the number of ready items, or ERESTARTNOHAND.
SysRet DoPoll(Task& t, std::vector<PollItem>& items, absl::Time deadline) {
  for (PollItem& it : items) {
    if (it.fd >= 0) it.file = t.fds()->Get(it.fd);
  }
  bool registered = false;
  SysRet result = 0;
  for (;;) {
    uint32_t seq = t.WakeSeq();
    int ready = 0;
    for (PollItem& it : items) {
      it.revents = 0;
      if (it.fd < 0) continue;
      if (!it.file) {
        it.revents = POLLNVAL;
      } else {
        it.revents = it.file->Readiness(it.events | POLLERR | POLLHUP) &
                     (it.events | POLLERR | POLLHUP | POLLNVAL);
      }
      if (it.revents) ready++;
    }
    if (ready > 0 || absl::Now() >= deadline) {
      result = ready;
      break;
    }
    if (!registered) {
      for (PollItem& it : items)
        if (it.file) it.file->EventRegister(t.waiter(), it.events | POLLERR | POLLHUP);
      registered = true;
      continue;  // re-check after registering: no wakeup can be lost
    }
    BlockResult b = t.Block(seq, deadline);
    if (b == BlockResult::kInterrupted) {
      result = SysRet::Err(ERESTARTNOHAND);
      break;
    }
  }
  if (registered) {
    for (PollItem& it : items)
      if (it.file) it.file->EventUnregister(t.waiter());
  }
  for (PollItem& it : items) it.file.reset();
  return result;
}

SysRet PollCommon(Task& t, uint64_t fds_addr, uint64_t nfds, absl::Time deadline) {
  if (nfds > t.tg()->limits.Cur(RLIMIT_NOFILE)) return SysRet::Err(EINVAL);
  std::vector<struct pollfd> pfds(nfds);
  if (nfds) TRY(t.CopyInBytes(UserAddr(fds_addr), pfds.data(), nfds * sizeof(struct pollfd)));
  std::vector<PollItem> items(nfds);
  for (size_t i = 0; i < nfds; i++) {
    items[i].fd = pfds[i].fd;
    items[i].events = static_cast<uint16_t>(pfds[i].events);
  }
  SysRet r = DoPoll(t, items, deadline);
  if (!r.ok()) return r;
  for (size_t i = 0; i < nfds; i++) pfds[i].revents = static_cast<short>(items[i].revents);
  if (nfds) TRY(t.CopyOutBytes(UserAddr(fds_addr), pfds.data(), nfds * sizeof(struct pollfd)));
  return r;
}

ErrorOr<absl::Time> TimespecDeadline(Task& t, uint64_t addr) {
  if (addr == 0) return absl::InfiniteFuture();
  absl::Duration d = TRY_ASSIGN(CopyInTimespecDuration(t, addr));
  return absl::Now() + d;
}

SysRet SelectCommon(Task& t, int nfds, uint64_t rd, uint64_t wr, uint64_t ex, absl::Time deadline) {
  if (nfds < 0) return SysRet::Err(EINVAL);
  uint64_t max = t.tg()->limits.Cur(RLIMIT_NOFILE);
  if (static_cast<uint64_t>(nfds) > max) nfds = static_cast<int>(max);
  size_t bytes = ((static_cast<size_t>(nfds) + 63) / 64) * 8;
  std::vector<uint64_t> sets[3];
  uint64_t addrs[3] = {rd, wr, ex};
  for (int i = 0; i < 3; i++) {
    sets[i].assign(bytes / 8, 0);
    if (addrs[i] != 0 && bytes) TRY(t.CopyInBytes(UserAddr(addrs[i]), sets[i].data(), bytes));
  }
  constexpr uint32_t kIn = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
  constexpr uint32_t kOut = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
  constexpr uint32_t kEx = POLLPRI;
  std::vector<PollItem> items;
  for (int fd = 0; fd < nfds; fd++) {
    uint32_t ev = 0;
    auto bit = [&](int s) { return (sets[s][static_cast<size_t>(fd / 64)] >> (fd % 64)) & 1; };
    if (bit(0)) ev |= kIn;
    if (bit(1)) ev |= kOut;
    if (bit(2)) ev |= kEx;
    if (ev == 0) continue;
    if (!t.fds()->Get(fd)) return SysRet::Err(EBADF);
    items.push_back({fd, ev});
  }
  SysRet r = DoPoll(t, items, deadline);
  if (!r.ok()) return r;
  for (auto& s : sets) std::fill(s.begin(), s.end(), 0);
  int count = 0;
  for (const PollItem& it : items) {
    auto set = [&](int s) {
      sets[s][static_cast<size_t>(it.fd / 64)] |= uint64_t{1} << (it.fd % 64);
      count++;
    };
    if ((it.events & POLLIN) && (it.revents & kIn)) set(0);
    if ((it.events & POLLOUT) && (it.revents & kOut)) set(1);
    if ((it.events & POLLPRI) && (it.revents & kEx)) set(2);
  }
  for (int i = 0; i < 3; i++) {
    if (addrs[i] != 0 && bytes) TRY(t.CopyOutBytes(UserAddr(addrs[i]), sets[i].data(), bytes));
  }
  return count;
}

}  // namespace

SysRet Poll(Task& t, const SyscallArgs& a) {
  int timeout = static_cast<int>(a[2]);
  absl::Time deadline =
      timeout < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout);
  return PollCommon(t, a[0], a[1], deadline);
}

SysRet Ppoll(Task& t, const SyscallArgs& a) {
  absl::Time deadline = TRY_ASSIGN(TimespecDeadline(t, a[2]));
  bool applied;
  TRY(ApplySigmask(t, a[3], a[4], &applied));
  SysRet r = PollCommon(t, a[0], a[1], deadline);
  if (a[2] != 0 && r.error() != EFAULT) {
    struct timespec left = absl::ToTimespec(std::max(absl::ZeroDuration(), deadline - absl::Now()));
    (void)t.CopyOutBytes(UserAddr(a[2]), &left, sizeof(left));
  }
  return r;
}

SysRet Select(Task& t, const SyscallArgs& a) {
  absl::Time deadline = absl::InfiniteFuture();
  if (a[4] != 0) {
    struct timeval tv;
    TRY(t.CopyInBytes(UserAddr(a[4]), &tv, sizeof(tv)));
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000) return SysRet::Err(EINVAL);
    deadline = absl::Now() + absl::DurationFromTimeval(tv);
  }
  SysRet r = SelectCommon(t, static_cast<int>(a[0]), a[1], a[2], a[3], deadline);
  if (a[4] != 0) {
    struct timeval left = absl::ToTimeval(std::max(absl::ZeroDuration(), deadline - absl::Now()));
    (void)t.CopyOutBytes(UserAddr(a[4]), &left, sizeof(left));
  }
  return r;
}

SysRet Pselect6(Task& t, const SyscallArgs& a) {
  absl::Time deadline = TRY_ASSIGN(TimespecDeadline(t, a[4]));
  if (a[5] != 0) {
    struct {
      uint64_t ss;
      uint64_t ss_len;
    } sig;
    TRY(t.CopyInBytes(UserAddr(a[5]), &sig, sizeof(sig)));
    bool applied;
    TRY(ApplySigmask(t, sig.ss, sig.ss_len, &applied));
  }
  SysRet r = SelectCommon(t, static_cast<int>(a[0]), a[1], a[2], a[3], deadline);
  if (a[4] != 0) {
    struct timespec left = absl::ToTimespec(std::max(absl::ZeroDuration(), deadline - absl::Now()));
    (void)t.CopyOutBytes(UserAddr(a[4]), &left, sizeof(left));
  }
  return r;
}

}  // namespace sentry::sys
