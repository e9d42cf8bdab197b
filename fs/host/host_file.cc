#include "fs/host/host_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "fs/host/notifier.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

class HostFs : public Filesystem {
 public:
  std::string_view Name() const override { return "host"; }
};
HostFs& TheHostFs() {
  static HostFs* fs = new HostFs();
  return *fs;
}

class HostFile : public FileDescription {
 public:
  HostFile(int fd, bool tty, bool stream) : fd_(fd), tty_(tty), stream_(stream) {
    if (stream_) HostNotifier::Get().Add(fd_, &wq_);
  }
  ~HostFile() override {
    if (stream_) HostNotifier::Get().Remove(fd_);
    close(fd_);
  }

  SysRet Read(Task*, IOSequence& dst) override {
    // Through a bounce buffer: the host read may not touch application
    // memory directly while it could block.
    char buf[65536];
    size_t n = std::min(dst.remaining(), sizeof(buf));
    // The host file description's own offset is the file position: it is
    // shared with whoever else has the file open, as for a native child.
    ssize_t r = read(fd_, buf, n);
    if (r < 0) return SysRet::Err(errno == EWOULDBLOCK ? EAGAIN : errno);
    auto c = dst.CopyOut(buf, static_cast<size_t>(r));
    if (!c.ok()) return SysRet::Err(c.error());
    return static_cast<int64_t>(*c);
  }

  SysRet Write(Task*, IOSequence& src) override {
    if (stream_) {
      // Report EAGAIN before taking any bytes, so none are lost.
      struct pollfd p = {fd_, POLLOUT, 0};
      if (poll(&p, 1, 0) == 0) return SysRet::Err(EAGAIN);
    }
    char buf[65536];
    size_t n = std::min(src.remaining(), sizeof(buf));
    auto got = src.CopyIn(buf, n);
    if (!got.ok()) return SysRet::Err(got.error());
    // The bytes are taken from the application now: write all of them,
    // waiting for the host if its buffer fills up part-way.
    size_t done = 0;
    while (done < *got) {
      ssize_t r = write(fd_, buf + done, *got - done);
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          struct pollfd p = {fd_, POLLOUT, 0};
          poll(&p, 1, 1000);
          continue;
        }
        if (done > 0) break;
        return SysRet::Err(errno);
      }
      done += static_cast<size_t>(r);
    }
    return static_cast<int64_t>(done);
  }

  SysRet PRead(Task*, IOSequence& dst, int64_t off) override {
    if (stream_) return SysRet::Err(ESPIPE);
    char buf[65536];
    size_t n = std::min(dst.remaining(), sizeof(buf));
    ssize_t r = pread(fd_, buf, n, off);
    if (r < 0) return SysRet::Err(errno);
    auto c = dst.CopyOut(buf, static_cast<size_t>(r));
    if (!c.ok()) return SysRet::Err(c.error());
    return static_cast<int64_t>(*c);
  }

  SysRet PWrite(Task*, IOSequence& src, int64_t off) override {
    if (stream_) return SysRet::Err(ESPIPE);
    char buf[65536];
    size_t n = std::min(src.remaining(), sizeof(buf));
    auto got = src.CopyIn(buf, n);
    if (!got.ok()) return SysRet::Err(got.error());
    ssize_t r = off < 0 ? write(fd_, buf, *got) : pwrite(fd_, buf, *got, off);
    if (r < 0) return SysRet::Err(errno);
    return static_cast<int64_t>(r);
  }

  ErrorOr<int64_t> Seek(int64_t off, int whence) override {
    if (stream_) return Err(ESPIPE);
    off_t r = lseek(fd_, off, whence);
    if (r < 0) return Err(errno);
    return static_cast<int64_t>(r);
  }
  bool seekable() const override { return !stream_; }

  ErrorOr<Attr> Stat() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return Err(errno);
    Attr a;
    a.dev = TheHostFs().dev();
    a.ino = st.st_ino;
    a.mode = st.st_mode;
    a.nlink = static_cast<uint32_t>(st.st_nlink);
    a.uid = st.st_uid;
    a.gid = st.st_gid;
    a.rdev = st.st_rdev;
    a.size = static_cast<uint64_t>(st.st_size);
    a.blocks = static_cast<uint64_t>(st.st_blocks);
    a.blksize = static_cast<uint32_t>(st.st_blksize);
    a.atime = st.st_atim;
    a.mtime = st.st_mtim;
    a.ctime = st.st_ctim;
    return a;
  }

  uint32_t Readiness(uint32_t mask) override {
    if (!stream_) return mask & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
    struct pollfd p = {fd_, static_cast<short>(mask & (POLLIN | POLLOUT | POLLPRI)), 0};
    if (poll(&p, 1, 0) < 0) return 0;
    return static_cast<uint32_t>(p.revents) & (mask | POLLHUP | POLLERR);
  }
  void EventRegister(Waiter* w, uint32_t mask) override { wq_.Register(w, mask); }
  void EventUnregister(Waiter* w) override { wq_.Unregister(w); }

  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    if (!tty_) return SysRet::Err(ENOTTY);
    switch (cmd) {
      case TCGETS: {
        struct termios tio;
        if (ioctl(fd_, TCGETS, &tio) != 0) return SysRet::Err(errno);
        TRY(t->CopyOutBytes(UserAddr(arg), &tio, sizeof(tio)));
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF: {
        struct termios tio;
        TRY(t->CopyInBytes(UserAddr(arg), &tio, sizeof(tio)));
        if (ioctl(fd_, cmd, &tio) != 0) return SysRet::Err(errno);
        return 0;
      }
      case TIOCGWINSZ: {
        struct winsize ws;
        if (ioctl(fd_, TIOCGWINSZ, &ws) != 0) return SysRet::Err(errno);
        TRY(t->CopyOutBytes(UserAddr(arg), &ws, sizeof(ws)));
        return 0;
      }
      case TIOCSWINSZ: {
        struct winsize ws;
        TRY(t->CopyInBytes(UserAddr(arg), &ws, sizeof(ws)));
        if (ioctl(fd_, TIOCSWINSZ, &ws) != 0) return SysRet::Err(errno);
        return 0;
      }
      case TCFLSH:
      case TCXONC:
        if (ioctl(fd_, cmd, static_cast<int>(arg)) != 0) return SysRet::Err(errno);
        return 0;
      case TIOCGPGRP: {
        // The sandbox's foreground process group: the session's first.
        int32_t pg = fg_pgrp_.load() ? fg_pgrp_.load() : 1;
        TRY(t->CopyOut(UserPtr<int32_t>(arg), pg));
        return 0;
      }
      case TIOCSPGRP: {
        int32_t pg;
        TRY(t->CopyIn(UserPtr<int32_t>(arg), &pg));
        if (pg <= 0) return SysRet::Err(EINVAL);
        fg_pgrp_ = pg;
        return 0;
      }
      case TIOCGSID:
        TRY(t->CopyOut(UserPtr<int32_t>(arg), int32_t{1}));
        return 0;
      case TIOCSCTTY:
      case TIOCNOTTY:
        return 0;
      case FIONREAD: {
        int n = 0;
        if (ioctl(fd_, FIONREAD, &n) != 0) return SysRet::Err(errno);
        TRY(t->CopyOut(UserPtr<int>(arg), n));
        return 0;
      }
      default:
        return SysRet::Err(ENOTTY);
    }
  }

  std::string AnonName() const override { return absl::StrFormat("host:[%d]", fd_); }

 private:
  const int fd_;
  const bool tty_;
  const bool stream_;
  std::atomic<int32_t> fg_pgrp_{0};
  WaitQueue wq_;
};

}  // namespace

ErrorOr<std::shared_ptr<FileDescription>> NewHostFile(int fd, uint32_t flags) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Err(errno);
  bool tty = isatty(fd);
  bool stream = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
  if (stream) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  auto f = std::make_shared<HostFile>(fd, tty, stream);
  f->Init(VirtualDentry{}, flags);
  return std::shared_ptr<FileDescription>(f);
}

const std::vector<unsigned long>& HostTtyIoctls() {
  static const std::vector<unsigned long> v = {TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ,
                                                TIOCSWINSZ, TCFLSH, TCXONC, FIONREAD};
  return v;
}

}  // namespace sentry::vfs
