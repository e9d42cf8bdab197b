// The open files of a pty: the master (ptmx) and the replica (/dev/pts/N,
// or /dev/tty naming the caller's controlling terminal). Reads of the
// replica implement VMIN/VTIME themselves: those waits depend on the
// termios, which the generic wait-for-readiness loop does not know.
#include <poll.h>
#include <signal.h>

#include <algorithm>

#include "absl/time/clock.h"
#include "fs/tty/pty.h"
#include "sentry/kernel/kernel.h"

namespace sentry::tty {
namespace {

class PtyFile : public FileDescription {
 public:
  explicit PtyFile(std::shared_ptr<Pty> p) : p_(std::move(p)) {}
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return Err(ESPIPE); }
  bool seekable() const override { return false; }
  Pty* pty() const { return p_.get(); }

 protected:
  std::shared_ptr<Pty> p_;
};

class MasterFile : public PtyFile {
 public:
  using PtyFile::PtyFile;
  ~MasterFile() override { p_->CloseMaster(); }
  SysRet Read(Task*, IOSequence& dst) override { return p_->MasterRead(dst); }
  SysRet Write(Task*, IOSequence& src) override { return p_->MasterWrite(src); }
  uint32_t Readiness(uint32_t mask) override { return p_->MasterReadiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { p_->MasterRegister(w, mask); }
  void EventUnregister(Waiter* w) override { p_->MasterUnregister(w); }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    return p_->Ioctl(t, this, /*master=*/true, cmd, arg);
  }
};

class ReplicaFile : public PtyFile {
 public:
  using PtyFile::PtyFile;
  ~ReplicaFile() override { p_->CloseReplica(); }

  SysRet Read(Task* t, IOSequence& dst) override {
    if (p_->hung_up()) return 0;
    // Job control: a background reader stops (SIGTTIN) or fails (EIO).
    TRY(p_->CheckChange(t, SIGTTIN));
    const KernelTermios tm = p_->termios();
    auto attempt = [&] { return p_->ReplicaRead(dst); };
    if ((tm.c_lflag & ICANON) || t == nullptr || dst.remaining() == 0) return attempt();
    const size_t vmin = tm.c_cc[VMIN];
    const absl::Duration vtime = absl::Milliseconds(100) * tm.c_cc[VTIME];
    if (vmin == 0) {
      if (vtime == absl::ZeroDuration()) {
        // Polling read: whatever is there, never EAGAIN.
        SysRet r = attempt();
        return r.error() == EAGAIN ? SysRet(0) : r;
      }
      // A read timer: the first byte or nothing after VTIME.
      SysRet r = t->BlockOnFile(this, POLLIN, attempt, absl::Now() + vtime);
      return r.error() == ETIMEDOUT ? SysRet(0) : r;
    }
    // VMIN bytes (or as many as asked for); with VTIME, an inter-byte
    // timer that starts with the first byte.
    const size_t want = std::min(vmin, dst.remaining());
    int64_t got = 0;
    for (;;) {
      absl::Time deadline = absl::InfiniteFuture();
      if (got > 0 && vtime > absl::ZeroDuration()) deadline = absl::Now() + vtime;
      SysRet r = t->BlockOnFile(this, POLLIN, attempt, deadline);
      if (!r.ok()) return got > 0 ? SysRet(got) : r;
      if (r.value() == 0) return got;  // hung up meanwhile
      got += r.value();
      if (static_cast<size_t>(got) >= want || dst.remaining() == 0) return got;
    }
  }

  SysRet Write(Task* t, IOSequence& src) override {
    if (p_->hung_up()) return SysRet::Err(EIO);
    if (p_->termios().c_lflag & TOSTOP) TRY(p_->CheckChange(t, SIGTTOU));
    return p_->ReplicaWrite(src);
  }
  uint32_t Readiness(uint32_t mask) override { return p_->ReplicaReadiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { p_->ReplicaRegister(w, mask); }
  void EventUnregister(Waiter* w) override { p_->ReplicaUnregister(w); }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    return p_->Ioctl(t, this, /*master=*/false, cmd, arg);
  }
};

}  // namespace

std::shared_ptr<FileDescription> NewMasterFile(std::shared_ptr<Pty> p) {
  return std::make_shared<MasterFile>(std::move(p));
}

std::shared_ptr<FileDescription> NewReplicaFile(std::shared_ptr<Pty> p) {
  return std::make_shared<ReplicaFile>(std::move(p));
}

ErrorOr<std::shared_ptr<FileDescription>> OpenControllingTty(Task* t) {
  if (t == nullptr) return Err(ENXIO);
  std::shared_ptr<Terminal> tty;
  {
    absl::MutexLock l(&t->kernel().tasks_mu_);
    tty = t->tg()->tty;
  }
  // Only ptys become controlling terminals here.
  auto p = std::dynamic_pointer_cast<Pty>(tty);
  if (p == nullptr) return Err(ENXIO);
  TRY(p->OpenReplica());
  return NewReplicaFile(std::move(p));
}

Pty* AsPty(FileDescription* f) {
  auto* pf = dynamic_cast<PtyFile*>(f);
  return pf ? pf->pty() : nullptr;
}

}  // namespace sentry::tty
