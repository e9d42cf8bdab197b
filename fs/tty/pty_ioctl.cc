// A pty's ioctls (tty_ioctl(4)): termios, window size, queues and the ptmx
// ioctls; the job control ones are in pty_job_control.cc. Every ioctl on the
// master acts on the replica ("real tty"), except the master-only ones.
#include <asm/ioctls.h>
#include <signal.h>

#include <cstring>
#include <string>
#include <vector>

#include "fs/tty/pty.h"
#include "sentry/kernel/kernel.h"

namespace sentry::tty {
SysRet Pty::SetTermiosIoctl(Task* t, uint32_t cmd, uint64_t arg) {
  TRY(CheckChange(t, SIGTTOU));
  KernelTermios nt;
  const bool two = cmd == TCSETS2 || cmd == TCSETSW2 || cmd == TCSETSF2;
  const bool termio = cmd == TCSETA || cmd == TCSETAW || cmd == TCSETAF;
  if (two) {
    KernelTermios2 t2;
    TRY(t->CopyIn(UserPtr<KernelTermios2>(arg), &t2));
    nt = t2.t;
  } else if (termio) {
    KernelTermio tio;
    TRY(t->CopyIn(UserPtr<KernelTermio>(arg), &tio));
    // user_termio_to_kernel_termios: the low halves and the first NCC
    // characters replace the current settings' (a racing change in
    // between is lost, as in Linux).
    nt = termios();
    nt.c_iflag = (nt.c_iflag & 0xffff0000u) | tio.c_iflag;
    nt.c_oflag = (nt.c_oflag & 0xffff0000u) | tio.c_oflag;
    nt.c_cflag = (nt.c_cflag & 0xffff0000u) | tio.c_cflag;
    nt.c_lflag = (nt.c_lflag & 0xffff0000u) | tio.c_lflag;
    nt.c_line = tio.c_line;
    for (int i = 0; i < kNcc; i++) nt.c_cc[i] = tio.c_cc[i];
  } else {
    TRY(t->CopyIn(UserPtr<KernelTermios>(arg), &nt));
  }
  {
    absl::MutexLock l(&mu_);
    // TCSETSW waits for output to drain: a pty's output is with the master
    // at once, so there is nothing to wait for. TCSETSF also drops input.
    if (cmd == TCSETSF || cmd == TCSETSF2 || cmd == TCSETAF) {
      ld_.FlushInput();
      if (packet_) pktstatus_ |= TIOCPKT_FLUSHREAD;
    }
    const KernelTermios old_t = ld_.termios();
    const bool was_stopped = ld_.stopped();
    ld_.SetTermios(nt);
    NoteTermiosLocked(old_t);
    NoteFlowLocked(was_stopped);
  }
  replica_wq_.Notify(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
  master_wq_.Notify(POLLIN | POLLRDNORM | POLLPRI | POLLOUT | POLLWRNORM);
  return 0;
}

SysRet Pty::Ioctl(Task* t, FileDescription* f, bool master, uint32_t cmd, uint64_t arg) {
  if (t == nullptr) return SysRet::Err(ENOTTY);
  if (!master && hung_up()) {
    // hung_up_tty_ioctl
    return SysRet::Err(cmd == TIOCSPGRP ? ENOTTY : EIO);
  }
  switch (cmd) {
    case TCGETS: {
      KernelTermios tm = termios();
      TRY(t->CopyOut(UserPtr<KernelTermios>(arg), tm));
      return 0;
    }
    case TCGETS2: {
      KernelTermios2 t2;
      t2.t = termios();
      t2.c_ispeed = t2.c_ospeed = kDefaultSpeed;
      TRY(t->CopyOut(UserPtr<KernelTermios2>(arg), t2));
      return 0;
    }
    case TCGETA: {
      KernelTermios tm = termios();
      KernelTermio tio;
      tio.c_iflag = static_cast<uint16_t>(tm.c_iflag);
      tio.c_oflag = static_cast<uint16_t>(tm.c_oflag);
      tio.c_cflag = static_cast<uint16_t>(tm.c_cflag);
      tio.c_lflag = static_cast<uint16_t>(tm.c_lflag);
      tio.c_line = tm.c_line;
      for (int i = 0; i < kNcc; i++) tio.c_cc[i] = tm.c_cc[i];
      TRY(t->CopyOut(UserPtr<KernelTermio>(arg), tio));
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TCSETS2:
    case TCSETSW2:
    case TCSETSF2:
    case TCSETA:
    case TCSETAW:
    case TCSETAF:
      return SetTermiosIoctl(t, cmd, arg);
    case TIOCGWINSZ: {
      Winsize ws;
      {
        absl::MutexLock l(&mu_);
        ws = winsize_;
      }
      TRY(t->CopyOut(UserPtr<Winsize>(arg), ws));
      return 0;
    }
    case TIOCSWINSZ: {
      Winsize ws;
      TRY(t->CopyIn(UserPtr<Winsize>(arg), &ws));
      bool changed;
      {
        absl::MutexLock l(&mu_);
        changed = memcmp(&ws, &winsize_, sizeof(ws)) != 0;
        winsize_ = ws;
      }
      if (changed) SignalForeground({SIGWINCH});
      return 0;
    }
    case FIONREAD: {
      int n;
      {
        absl::MutexLock l(&mu_);
        n = static_cast<int>(master ? ld_.OutputQueued() : ld_.InputQueued());
      }
      TRY(t->CopyOut(UserPtr<int>(arg), n));
      return 0;
    }
    case TIOCOUTQ: {
      // pty_chars_in_buffer: output is with the other side at once.
      TRY(t->CopyOut(UserPtr<int>(arg), 0));
      return 0;
    }
    case TCFLSH: {
      int which = static_cast<int>(arg);
      if (which != TCIFLUSH && which != TCOFLUSH && which != TCIOFLUSH) {
        return SysRet::Err(EINVAL);
      }
      TRY(CheckChange(t, SIGTTOU));
      {
        absl::MutexLock l(&mu_);
        // The master's input is the replica's output and vice versa.
        bool in = which != TCOFLUSH, out = which != TCIFLUSH;
        if (master) std::swap(in, out);
        if (in) ld_.FlushInput();
        if (out) ld_.FlushOutput();
        // The master's reader hears what the replica flushed.
        if (packet_ && !master) {
          if (in) pktstatus_ |= TIOCPKT_FLUSHREAD;
          if (out) pktstatus_ |= TIOCPKT_FLUSHWRITE;
        }
      }
      replica_wq_.Notify(POLLOUT | POLLWRNORM);
      master_wq_.Notify(POLLIN | POLLRDNORM | POLLPRI | POLLOUT | POLLWRNORM);
      return 0;
    }
    case TCXONC: {
      int action = static_cast<int>(arg);
      if (action < TCOOFF || action > TCION) return SysRet::Err(EINVAL);
      TRY(CheckChange(t, SIGTTOU));
      if (action == TCOOFF || action == TCOON) {
        absl::MutexLock l(&mu_);
        const bool was_stopped = ld_.stopped();
        ld_.set_stopped(action == TCOOFF);
        if (!master) NoteFlowLocked(was_stopped);
      }
      replica_wq_.Notify(POLLOUT | POLLWRNORM);
      master_wq_.Notify(POLLIN | POLLRDNORM | POLLPRI);
      return 0;
    }
    case TCSBRK:
    case TCSBRKP:
      // A break on a pty is nothing; the background check still applies.
      TRY(CheckChange(t, SIGTTOU));
      return 0;
    case TIOCSBRK:
    case TIOCCBRK:
      TRY(CheckChange(t, SIGTTOU));
      return 0;
    case TIOCGETD:
      TRY(t->CopyOut(UserPtr<int>(arg), 0));  // N_TTY
      return 0;
    case TIOCGDEV: {
      uint32_t maj = kPtyReplicaMajor, min = index_;
      uint32_t d = (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
      TRY(t->CopyOut(UserPtr<uint32_t>(arg), d));
      return 0;
    }
    case TIOCGPTN: {
      if (!master) return SysRet::Err(ENOTTY);
      uint32_t n = index_;
      TRY(t->CopyOut(UserPtr<uint32_t>(arg), n));
      return 0;
    }
    case TIOCSPTLCK: {
      if (!master) return SysRet::Err(ENOTTY);
      int v;
      TRY(t->CopyIn(UserPtr<int>(arg), &v));
      absl::MutexLock l(&mu_);
      locked_ = v != 0;
      return 0;
    }
    case TIOCGPTLCK: {
      if (!master) return SysRet::Err(ENOTTY);
      int v;
      {
        absl::MutexLock l(&mu_);
        v = locked_ ? 1 : 0;
      }
      TRY(t->CopyOut(UserPtr<int>(arg), v));
      return 0;
    }
    case TIOCSTI: {
      // As with dev.tty.legacy_tiocsti=0 (the default since Linux 6.2):
      // faking input takes CAP_SYS_ADMIN.
      if (!t->creds().HasCap(vfs::kCapSysAdmin)) return SysRet::Err(EIO);
      uint8_t c;
      TRY(t->CopyIn(UserPtr<uint8_t>(arg), &c));
      std::vector<int> sigs;
      {
        absl::MutexLock l(&mu_);
        // The file's own side receives it: the replica's line discipline,
        // or the master's (raw) input.
        if (master) {
          ld_.InjectOutput(c);
        } else {
          const bool was_stopped = ld_.stopped();
          ld_.Receive(&c, 1, &sigs);
          NoteFlowLocked(was_stopped);
        }
      }
      replica_wq_.Notify(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
      master_wq_.Notify(POLLIN | POLLRDNORM | POLLPRI);
      SignalForeground(sigs);
      return 0;
    }
    case TIOCPKT: {
      if (!master) return SysRet::Err(ENOTTY);
      int on;
      TRY(t->CopyIn(UserPtr<int>(arg), &on));
      absl::MutexLock l(&mu_);
      if (on && !packet_) pktstatus_ = 0;
      packet_ = on != 0;
      return 0;
    }
    case TIOCGPKT: {
      if (!master) return SysRet::Err(ENOTTY);
      int on;
      {
        absl::MutexLock l(&mu_);
        on = packet_ ? 1 : 0;
      }
      TRY(t->CopyOut(UserPtr<int>(arg), on));
      return 0;
    }
    case TIOCGPTPEER: {
      // Generic in tty_ioctl; ptm_open_peer refuses other ttys with EIO.
      if (!master) return SysRet::Err(EIO);
      // Opens this pty's node in the devpts mount the master came from.
      const vfs::VirtualDentry& vd = f->vd();
      if (!vd.ok()) return SysRet::Err(EIO);
      uint32_t flags = static_cast<uint32_t>(arg);
      vfs::VirtualDentry root{vd.mount, vd.mount->root};
      auto file = TRY_ASSIGN(k_->vfs()->Open(t->PathCtx(), root, std::to_string(index_),
                                             flags & ~uint32_t{O_CLOEXEC | O_CREAT | O_EXCL}, 0));
      return TRY_ASSIGN(t->fds()->Add(file, flags & O_CLOEXEC, 0,
                                      t->tg()->limits.Cur(RLIMIT_NOFILE)));
    }
    case TIOCSCTTY:
    case TIOCNOTTY:
    case TIOCGPGRP:
    case TIOCSPGRP:
    case TIOCGSID:
      return JobControlIoctl(t, f, master, cmd, arg);
    default:
      // TIOCSIG, TIOCEXCL, modem lines and serial ioctls are not
      // implemented.
      return SysRet::Err(ENOTTY);
  }
}

}  // namespace sentry::tty
