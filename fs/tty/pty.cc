// A pty pair's data paths, opens and hangup (see pty.h); drivers/tty/pty.c
// and n_tty.c are the reference.
#include "fs/tty/pty.h"

#include <asm/ioctls.h>
#include <poll.h>
#include <signal.h>

#include "sentry/kernel/kernel.h"

namespace sentry::tty {
namespace {

constexpr uint32_t kIn = POLLIN | POLLRDNORM;
constexpr uint32_t kOut = POLLOUT | POLLWRNORM;
constexpr size_t kChunk = 4096;

}  // namespace

Pty::Pty(Kernel* k, uint32_t index, std::function<void()> release)
    : k_(k), index_(index), release_(std::move(release)) {}

Errno Pty::OpenReplica() {
  {
    absl::MutexLock l(&mu_);
    if (locked_ || !master_open_) {
      // pty_open's TTY_IO_ERROR: the replica's open files fail reads and
      // writes until an open succeeds.
      replica_io_error_ = true;
      return EIO;
    }
    replica_opens_++;
    replica_closed_ = false;
    replica_io_error_ = false;
  }
  master_wq_.Notify(kIn | kOut);
  return 0;
}

void Pty::CloseReplica() {
  {
    absl::MutexLock l(&mu_);
    if (--replica_opens_ == 0) replica_closed_ = true;
  }
  master_wq_.Notify(kIn | kOut | POLLHUP);
  MaybeRelease();
}

bool Pty::master_open() {
  absl::MutexLock l(&mu_);
  return master_open_;
}

bool Pty::hung_up() {
  absl::MutexLock l(&mu_);
  return !master_open_;
}

KernelTermios Pty::termios() {
  absl::MutexLock l(&mu_);
  return ld_.termios();
}

void Pty::CloseMaster() {
  {
    absl::MutexLock l(&mu_);
    master_open_ = false;
  }
  replica_wq_.Notify(kIn | kOut | POLLERR | POLLHUP);
  if (k_ != nullptr) {
    // tty_signal_session_leader: the session's processes lose the
    // terminal, its leader gets SIGHUP and SIGCONT.
    absl::MutexLock l(&k_->tasks_mu_);
    if (sid != 0) {
      if (Session* s = k_->FindSessionLocked(sid)) {
        for (ProcessGroup* pg : s->groups) {
          for (ThreadGroup* g : std::vector<ThreadGroup*>(pg->members)) {
            if (g->tty.get() != this) continue;
            if (g->tgid() == sid && !g->zombie) {
              k_->SendSignalLocked(g, nullptr, MakeSigInfo(SIGHUP, SI_KERNEL));
              k_->SendSignalLocked(g, nullptr, MakeSigInfo(SIGCONT, SI_KERNEL));
            }
          }
        }
        k_->ClearSessionTtyLocked(sid, this);
      }
    }
    sid = 0;
    fg_pgid = 0;
  }
  MaybeRelease();
}

void Pty::MaybeRelease() {
  {
    absl::MutexLock l(&mu_);
    if (master_open_ || replica_opens_ > 0 || released_) return;
    released_ = true;
  }
  if (release_) release_();
}

void Pty::SignalForeground(const std::vector<int>& sigs) {
  if (sigs.empty() || k_ == nullptr) return;
  absl::MutexLock l(&k_->tasks_mu_);
  if (fg_pgid == 0) return;
  for (int sig : sigs) k_->SignalProcessGroupLocked(fg_pgid, sig);
}

SysRet Pty::MasterRead(IOSequence& dst) {
  if (dst.remaining() == 0) return 0;
  size_t n;
  {
    absl::MutexLock l(&mu_);
    if (packet_ && pktstatus_ != 0) {
      // A status change is read alone.
      ErrorOr<size_t> r = dst.CopyOut(&pktstatus_, 1);
      if (!r.ok() || *r == 0) return SysRet::Err(EFAULT);
      pktstatus_ = 0;
      return 1;
    }
    if (ld_.OutputQueued() == 0) {
      // Drained, and the replica side closed: n_tty_read's EIO.
      return SysRet::Err(replica_closed_ ? EIO : EAGAIN);
    }
    n = 0;
    if (packet_) {
      const uint8_t data = TIOCPKT_DATA;
      ErrorOr<size_t> r = dst.CopyOut(&data, 1);
      if (!r.ok() || *r == 0) return SysRet::Err(EFAULT);
      n = 1;
    }
    if (dst.remaining() > 0) {
      ErrorOr<size_t> r = ld_.ReadOutput(dst);
      if (r.ok()) {
        n += *r;
      } else if (n == 0) {
        return SysRet::Err(r.error());
      }
    }
  }
  replica_wq_.Notify(kOut);
  return static_cast<int64_t>(n);
}

SysRet Pty::MasterWrite(IOSequence& src) {
  if (src.remaining() == 0) return 0;
  std::vector<int> sigs;
  size_t n;
  {
    absl::MutexLock l(&mu_);
    if (ld_.PendingFull()) return SysRet::Err(EAGAIN);
    uint8_t buf[kChunk];
    size_t want = std::min({src.remaining(), kChunk, kPendingLimit});
    ErrorOr<size_t> r = src.CopyIn(buf, want);
    if (!r.ok() || *r == 0) return SysRet::Err(EFAULT);
    const bool was_stopped = ld_.stopped();
    n = ld_.Receive(buf, *r, &sigs);
    NoteFlowLocked(was_stopped);
    // isig() flushed both directions unless NOFLSH.
    if (!sigs.empty() && !(ld_.termios().c_lflag & NOFLSH) && packet_) {
      pktstatus_ |= TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE;
    }
    // The flip buffer may have taken less than was copied in; a master
    // write is short then, like pty_write's tty_insert_flip_string.
  }
  replica_wq_.Notify(kIn | kOut);   // input; output restarted by ^Q
  master_wq_.Notify(kIn | POLLPRI);  // echoes, packet status
  SignalForeground(sigs);
  return static_cast<int64_t>(n);
}

uint32_t Pty::MasterReadiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  uint32_t r = 0;
  if (ld_.OutputQueued() > 0) r |= kIn;
  if (packet_ && pktstatus_ != 0) r |= kIn | POLLPRI;
  if (!ld_.PendingFull()) r |= kOut;
  if (replica_closed_) r |= POLLHUP;
  return r & (mask | POLLHUP | POLLERR);
}

SysRet Pty::ReplicaRead(IOSequence& dst) {
  std::vector<int> sigs;
  size_t n;
  {
    absl::MutexLock l(&mu_);
    if (!master_open_) return 0;  // hung_up_tty_read
    if (replica_io_error_) return SysRet::Err(EIO);
    if (dst.remaining() == 0) return 0;
    if (!ld_.InputReadable()) return SysRet::Err(EAGAIN);
    ErrorOr<size_t> r = ld_.ReadInput(dst);
    if (!r.ok()) return SysRet::Err(r.error());
    n = *r;
    const bool was_stopped = ld_.stopped();
    ld_.Drain(&sigs);
    NoteFlowLocked(was_stopped);
    if (!sigs.empty() && !(ld_.termios().c_lflag & NOFLSH) && packet_) {
      pktstatus_ |= TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE;
    }
  }
  master_wq_.Notify(kOut | kIn | POLLPRI);
  replica_wq_.Notify(kIn | kOut);
  SignalForeground(sigs);
  return static_cast<int64_t>(n);
}

SysRet Pty::ReplicaWrite(IOSequence& src) {
  size_t n;
  {
    absl::MutexLock l(&mu_);
    if (!master_open_ || replica_io_error_) return SysRet::Err(EIO);
    if (src.remaining() == 0) return 0;
    if (!ld_.OutputRoom()) return SysRet::Err(EAGAIN);
    uint8_t buf[kOutputChunk];
    size_t room = kOutputLimit - ld_.OutputQueued();
    size_t want = std::min({src.remaining(), kOutputChunk, room});
    ErrorOr<size_t> r = src.CopyIn(buf, want);
    if (!r.ok() || *r == 0) return SysRet::Err(EFAULT);
    ld_.Write(buf, *r);
    n = *r;
  }
  master_wq_.Notify(kIn);
  return static_cast<int64_t>(n);
}

void Pty::NoteFlowLocked(bool was_stopped) {
  if (!packet_ || was_stopped == ld_.stopped()) return;
  if (ld_.stopped()) {
    pktstatus_ = (pktstatus_ & ~TIOCPKT_START) | TIOCPKT_STOP;
  } else {
    pktstatus_ = (pktstatus_ & ~TIOCPKT_STOP) | TIOCPKT_START;
  }
}

void Pty::NoteTermiosLocked(const KernelTermios& old_t) {
  if (!packet_) return;
  // pty_set_termios: whether ^S/^Q flow control is on, as the master's
  // user (telnetd, rlogind) would have to mimic it.
  auto flow = [](const KernelTermios& t) {
    return (t.c_iflag & IXON) && t.c_cc[VSTOP] == '\023' && t.c_cc[VSTART] == '\021';
  };
  const bool old_flow = flow(old_t), new_flow = flow(ld_.termios());
  if (old_flow == new_flow) return;
  if (new_flow) {
    pktstatus_ = (pktstatus_ & ~TIOCPKT_NOSTOP) | TIOCPKT_DOSTOP;
  } else {
    pktstatus_ = (pktstatus_ & ~TIOCPKT_DOSTOP) | TIOCPKT_NOSTOP;
  }
}

uint32_t Pty::ReplicaReadiness(uint32_t mask) {
  absl::MutexLock l(&mu_);
  if (!master_open_) return (kIn | kOut | POLLERR | POLLHUP) & (mask | POLLHUP | POLLERR);
  const KernelTermios& t = ld_.termios();
  // input_available_p(tty, 1): poll honours VMIN when VTIME is 0.
  size_t min = (t.c_cc[VTIME] == 0 && t.c_cc[VMIN] > 0) ? t.c_cc[VMIN] : 1;
  uint32_t r = 0;
  if (ld_.InputReadable(min)) r |= kIn;
  if (ld_.OutputRoom()) r |= kOut;
  return r & (mask | POLLHUP | POLLERR);
}

}  // namespace sentry::tty
