// Pty: one pseudo-terminal pair, Linux's two linked tty_structs of the
// unix98 pty driver seen as one object. The replica side (/dev/pts/N,
// 136:N) runs the line discipline; the master side (from /dev/ptmx) reads
// what the replica outputs and writes what the replica receives. Both
// sides share one termios and window size, and every job control ioctl
// on the master acts on the replica (tty_pair_get_tty).
//
// Lifetime: the master file and each replica file count their opens.
// Closing the master hangs the replica up (reads 0, writes and ioctls
// EIO, poll says everything, the session loses its terminal); closing the
// last replica makes master reads fail with EIO once drained (POLLHUP).
// `release` runs when both sides are closed (devpts frees the index);
// processes whose controlling terminal it was keep the object alive.
//
// Files: pty.cc (data paths, opens and hangup), pty_ioctl.cc (ioctls),
// pty_job_control.cc (the background check and the job control ioctls),
// pty_files.cc (the master and replica FileDescriptions).
//
// Lock order: Kernel::tasks_mu_ > Pty::mu_ > WaitQueue. The Terminal
// fields (session, foreground group) are guarded by tasks_mu_; signals that
// input characters raise are sent after mu_ is released.
#ifndef FS_TTY_PTY_H_
#define FS_TTY_PTY_H_

#include <sys/sysmacros.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "fs/tty/line_discipline.h"
#include "fs/vfs/file.h"
#include "sentry/base/waiter.h"
#include "sentry/kernel/terminal.h"

namespace sentry {
class Kernel;
}

namespace sentry::tty {

using vfs::FileDescription;

inline constexpr uint32_t kPtyReplicaMajor = 136;  // UNIX98_PTY_SLAVE_MAJOR
inline constexpr uint32_t kPtmxMajor = 5, kPtmxMinor = 2;
inline constexpr uint32_t kTtyMajor = 5, kTtyMinor = 0;

class Pty : public Terminal, public std::enable_shared_from_this<Pty> {
 public:
  Pty(Kernel* k, uint32_t index, std::function<void()> release);
  uint32_t index() const { return index_; }
  uint64_t rdev() const override { return makedev(kPtyReplicaMajor, index_); }
  Kernel* kernel() const { return k_; }

  // --- opens ---
  // pty_open for the replica: EIO while locked (TIOCSPTLCK) or once the
  // master is gone, which also makes reads and writes of the replica's
  // open files fail with EIO until an open succeeds. Counts the open.
  Errno OpenReplica();
  void CloseReplica();
  // The master's last close: hangs the replica up.
  void CloseMaster();
  bool master_open();

  // --- master side ---
  SysRet MasterRead(IOSequence& dst);
  SysRet MasterWrite(IOSequence& src);
  uint32_t MasterReadiness(uint32_t mask);
  void MasterRegister(Waiter* w, uint32_t mask) { master_wq_.Register(w, mask); }
  void MasterUnregister(Waiter* w) { master_wq_.Unregister(w); }

  // --- replica side ---
  // One read attempt: EAGAIN when nothing is readable (the caller handles
  // VMIN/VTIME), 0 once hung up.
  SysRet ReplicaRead(IOSequence& dst);
  SysRet ReplicaWrite(IOSequence& src);
  uint32_t ReplicaReadiness(uint32_t mask);
  void ReplicaRegister(Waiter* w, uint32_t mask) { replica_wq_.Register(w, mask); }
  void ReplicaUnregister(Waiter* w) { replica_wq_.Unregister(w); }
  bool hung_up();
  KernelTermios termios();

  // --- ioctls (pty_ioctl.cc, pty_job_control.cc) ---
  // `master`: the ioctl came through the master file `f`.
  SysRet Ioctl(Task* t, FileDescription* f, bool master, uint32_t cmd, uint64_t arg);
  // tty_check_change: a background process of this terminal's session
  // touching it gets `sig` for its group (ERESTARTSYS), or EIO when the
  // signal cannot stop it (ignored SIGTTIN, an orphaned group); an ignored
  // or blocked SIGTTOU lets it through.
  Errno CheckChange(Task* t, int sig);
  // tty_open_proc_set_tty: a session leader without a controlling
  // terminal opening this one (without O_NOCTTY) acquires it.
  void MaybeAcquireOnOpen(Task* t);

 private:
  // Sends the signals input characters raised to the foreground group.
  void SignalForeground(const std::vector<int>& sigs);
  SysRet SetTermiosIoctl(Task* t, uint32_t cmd, uint64_t arg);
  SysRet JobControlIoctl(Task* t, FileDescription* f, bool master, uint32_t cmd, uint64_t arg);
  void MaybeRelease();
  // Packet mode: records flow-control changes (pty_start/pty_stop) and
  // IXON changes (pty_set_termios) in pktstatus_.
  void NoteFlowLocked(bool was_stopped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NoteTermiosLocked(const KernelTermios& old_t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Kernel* const k_;
  const uint32_t index_;
  const std::function<void()> release_;

  absl::Mutex mu_;
  LineDiscipline ld_ ABSL_GUARDED_BY(mu_);
  Winsize winsize_ ABSL_GUARDED_BY(mu_);
  bool locked_ ABSL_GUARDED_BY(mu_) = true;  // TTY_PTY_LOCK: ptmx starts locked
  bool master_open_ ABSL_GUARDED_BY(mu_) = true;
  int replica_opens_ ABSL_GUARDED_BY(mu_) = 0;
  // TTY_OTHER_CLOSED on the master: the replica was open and is not now.
  bool replica_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  // TTY_IO_ERROR on the replica: set by a failed open (see OpenReplica).
  bool replica_io_error_ ABSL_GUARDED_BY(mu_) = false;
  // TIOCPKT: master reads start with a status byte; pktstatus_ holds the
  // TIOCPKT_* events not yet read (Linux's ctrl.packet / ctrl.pktstatus).
  bool packet_ ABSL_GUARDED_BY(mu_) = false;
  uint8_t pktstatus_ ABSL_GUARDED_BY(mu_) = 0;
  WaitQueue master_wq_, replica_wq_;
};

// The master (ptmx) file of `p`.
std::shared_ptr<FileDescription> NewMasterFile(std::shared_ptr<Pty> p);
// A replica file of `p` whose open OpenReplica already counted.
std::shared_ptr<FileDescription> NewReplicaFile(std::shared_ptr<Pty> p);
// The pty behind a master or replica file, or null.
Pty* AsPty(FileDescription* f);
// Opens /dev/tty: a replica file on `t`'s controlling terminal (ENXIO
// without one), which may be hung up or locked (EIO).
ErrorOr<std::shared_ptr<FileDescription>> OpenControllingTty(Task* t);

}  // namespace sentry::tty

#endif  // FS_TTY_PTY_H_
