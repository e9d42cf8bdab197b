// Extended attributes (xattr(7)).
#include <sys/mount.h>
#include <sys/xattr.h>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrSizeMax = 65536;

enum class Kind { kPath, kLink, kFd };

ErrorOr<vfs::VirtualDentry> Target(Task& t, Kind k, uint64_t arg) {
  if (k == Kind::kFd) {
    FilePtr f = TRY_ASSIGN(GetIOFile(t, static_cast<int>(arg)));
    if (!f->vd().ok()) return Err(EOPNOTSUPP);
    return f->vd();
  }
  std::string path = TRY_ASSIGN(CopyInPath(t, arg));
  vfs::VirtualDentry start = TRY_ASSIGN(StartDir(t, AT_FDCWD, path));
  return t.kernel().vfs()->Resolve(t.PathCtx(), start, path, k == Kind::kPath ? vfs::kFollow : 0u);
}

ErrorOr<std::string> Name(Task& t, uint64_t addr) {
  auto n = t.CopyInString(UserAddr(addr), kXattrNameMax + 1);
  if (!n.ok()) return Err(n.error() == ENAMETOOLONG ? ERANGE : n.error());
  if (n->empty() || n->size() > kXattrNameMax) return Err(ERANGE);
  return std::move(*n);
}

SysRet Get(Task& t, Kind k, uint64_t target, uint64_t name_addr, uint64_t value, uint64_t size) {
  vfs::VirtualDentry vd = TRY_ASSIGN(Target(t, k, target));
  std::string name = TRY_ASSIGN(Name(t, name_addr));
  std::string v = TRY_ASSIGN(t.kernel().vfs()->GetXattr(t.PathCtx(), vd, name));
  if (size == 0) return static_cast<int64_t>(v.size());
  if (v.size() > size) return SysRet::Err(ERANGE);
  TRY(t.CopyOutBytes(UserAddr(value), v.data(), v.size()));
  return static_cast<int64_t>(v.size());
}

SysRet Set(Task& t, Kind k, uint64_t target, uint64_t name_addr, uint64_t value, uint64_t size,
           uint64_t flags) {
  if (flags & ~uint64_t{XATTR_CREATE | XATTR_REPLACE}) return SysRet::Err(EINVAL);
  if (size > kXattrSizeMax) return SysRet::Err(E2BIG);
  vfs::VirtualDentry vd = TRY_ASSIGN(Target(t, k, target));
  std::string name = TRY_ASSIGN(Name(t, name_addr));
  std::string v(size, '\0');
  if (size) TRY(t.CopyInBytes(UserAddr(value), v.data(), size));
  return t.kernel().vfs()->SetXattr(t.PathCtx(), vd, name, v, static_cast<int>(flags));
}

SysRet List(Task& t, Kind k, uint64_t target, uint64_t list, uint64_t size) {
  vfs::VirtualDentry vd = TRY_ASSIGN(Target(t, k, target));
  std::vector<std::string> names = TRY_ASSIGN(t.kernel().vfs()->ListXattr(t.PathCtx(), vd));
  std::string out;
  for (const std::string& n : names) {
    out += n;
    out.push_back('\0');
  }
  if (size == 0) return static_cast<int64_t>(out.size());
  if (out.size() > size) return SysRet::Err(ERANGE);
  TRY(t.CopyOutBytes(UserAddr(list), out.data(), out.size()));
  return static_cast<int64_t>(out.size());
}

SysRet Remove(Task& t, Kind k, uint64_t target, uint64_t name_addr) {
  vfs::VirtualDentry vd = TRY_ASSIGN(Target(t, k, target));
  std::string name = TRY_ASSIGN(Name(t, name_addr));
  return t.kernel().vfs()->RemoveXattr(t.PathCtx(), vd, name);
}

}  // namespace

SysRet Getxattr(Task& t, const SyscallArgs& a) { return Get(t, Kind::kPath, a[0], a[1], a[2], a[3]); }
SysRet Lgetxattr(Task& t, const SyscallArgs& a) { return Get(t, Kind::kLink, a[0], a[1], a[2], a[3]); }
SysRet Fgetxattr(Task& t, const SyscallArgs& a) { return Get(t, Kind::kFd, a[0], a[1], a[2], a[3]); }
SysRet Setxattr(Task& t, const SyscallArgs& a) {
  return Set(t, Kind::kPath, a[0], a[1], a[2], a[3], a[4]);
}
SysRet Lsetxattr(Task& t, const SyscallArgs& a) {
  return Set(t, Kind::kLink, a[0], a[1], a[2], a[3], a[4]);
}
SysRet Fsetxattr(Task& t, const SyscallArgs& a) {
  return Set(t, Kind::kFd, a[0], a[1], a[2], a[3], a[4]);
}
SysRet Listxattr(Task& t, const SyscallArgs& a) { return List(t, Kind::kPath, a[0], a[1], a[2]); }
SysRet Llistxattr(Task& t, const SyscallArgs& a) { return List(t, Kind::kLink, a[0], a[1], a[2]); }
SysRet Flistxattr(Task& t, const SyscallArgs& a) { return List(t, Kind::kFd, a[0], a[1], a[2]); }
SysRet Removexattr(Task& t, const SyscallArgs& a) { return Remove(t, Kind::kPath, a[0], a[1]); }
SysRet Lremovexattr(Task& t, const SyscallArgs& a) { return Remove(t, Kind::kLink, a[0], a[1]); }
SysRet Fremovexattr(Task& t, const SyscallArgs& a) { return Remove(t, Kind::kFd, a[0], a[1]); }

}  // namespace sentry::sys
