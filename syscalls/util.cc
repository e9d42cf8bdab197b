#include "syscalls/util.h"

#include <climits>
#include <sys/uio.h>

namespace sentry::sys {

ErrorOr<FilePtr> GetFile(Task& t, int fd) {
  FilePtr f = t.fds()->Get(fd);
  if (!f) return Err(EBADF);
  return f;
}

ErrorOr<FilePtr> GetIOFile(Task& t, int fd) {
  FilePtr f = TRY_ASSIGN(GetFile(t, fd));
  if (f->is_path()) return Err(EBADF);
  return f;
}

ErrorOr<std::string> CopyInPath(Task& t, uint64_t addr) {
  auto s = t.CopyInString(UserAddr(addr), PATH_MAX);
  if (!s.ok()) return Err(s.error());
  return std::move(*s);
}

ErrorOr<vfs::VirtualDentry> StartDir(Task& t, int dirfd, const std::string& path, bool scoped) {
  if (!scoped && !path.empty() && path[0] == '/') return t.fs()->root();
  if (dirfd == AT_FDCWD) return t.fs()->cwd();
  FilePtr f = TRY_ASSIGN(GetFile(t, dirfd));
  if (!f->vd().ok()) return Err(ENOTDIR);
  vfs::Attr a = TRY_ASSIGN(f->vd().dentry->inode()->GetAttr());
  if (!a.IsDir() && !path.empty()) return Err(ENOTDIR);
  return f->vd();
}

ErrorOr<vfs::VirtualDentry> FdDentry(Task& t, int dirfd) {
  if (dirfd == AT_FDCWD) return t.fs()->cwd();
  FilePtr f = TRY_ASSIGN(GetFile(t, dirfd));
  if (!f->vd().ok()) return Err(EBADF);
  return f->vd();
}

SysRet InstallFile(Task& t, FilePtr f, bool cloexec) {
  auto fd = t.fds()->Add(std::move(f), cloexec, 0, t.tg()->limits.Cur(RLIMIT_NOFILE));
  if (!fd.ok()) return SysRet::Err(fd.error());
  return *fd;
}

ErrorOr<std::vector<IoVec>> CopyInIovecs(Task& t, uint64_t addr, uint64_t count) {
  if (count > kIovMax) return Err(EINVAL);
  std::vector<struct iovec> raw(count);
  if (count > 0) TRY(t.CopyInBytes(UserAddr(addr), raw.data(), count * sizeof(struct iovec)));
  std::vector<IoVec> out;
  out.reserve(count);
  uint64_t total = 0;
  for (const struct iovec& v : raw) {
    uint64_t len = v.iov_len;
    if (static_cast<int64_t>(len) < 0) return Err(EINVAL);
    total += len;
    if (total > static_cast<uint64_t>(SSIZE_MAX)) return Err(EINVAL);
    // Linux silently limits the total to MAX_RW_COUNT.
    uint64_t room = kMaxRwCount - std::min(kMaxRwCount, total - len);
    out.push_back({UserAddr(reinterpret_cast<uint64_t>(v.iov_base)), std::min(len, room)});
  }
  return out;
}

ErrorOr<absl::Duration> CopyInTimespecDuration(Task& t, uint64_t addr) {
  struct timespec ts;
  TRY(t.CopyInBytes(UserAddr(addr), &ts, sizeof(ts)));
  if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 || ts.tv_sec < 0) return Err(EINVAL);
  return absl::DurationFromTimespec(ts);
}

absl::Time HostClock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return absl::TimeFromTimespec(ts);
}

struct stat ToStat(const vfs::Attr& a) {
  struct stat s;
  memset(&s, 0, sizeof(s));
  s.st_dev = a.dev;
  s.st_ino = a.ino;
  s.st_nlink = a.nlink;
  s.st_mode = a.mode;
  s.st_uid = a.uid;
  s.st_gid = a.gid;
  s.st_rdev = a.rdev;
  s.st_size = static_cast<off_t>(a.size);
  s.st_blksize = a.blksize;
  s.st_blocks = static_cast<blkcnt_t>(a.blocks);
  s.st_atim = a.atime;
  s.st_mtim = a.mtime;
  s.st_ctim = a.ctime;
  return s;
}

Errno ApplySigmask(Task& t, uint64_t addr, uint64_t size, bool* applied) {
  *applied = false;
  if (addr == 0) return 0;
  if (size != sizeof(SigSet)) return EINVAL;
  SigSet m;
  TRY(t.CopyIn(UserPtr<SigSet>(addr), &m));
  SigSet old = t.signal_mask();
  t.SetSignalMask(m);
  t.SetSavedMask(old);
  *applied = true;
  return 0;
}

void RaiseOnSelf(Task& t, int sig) {
  absl::MutexLock l(&t.kernel().tasks_mu_);
  siginfo_t si = MakeSigInfo(sig, SI_USER);
  si.si_pid = t.tgid();
  t.kernel().SendSignalLocked(t.tg(), &t, si);
}

}  // namespace sentry::sys
