// Extended attribute syscalls' permission rules (fs/xattr.c).
#include <sys/xattr.h>

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {
namespace {

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Errno CheckName(std::string_view name) {
  if (name.empty() || name.size() > 255) return ERANGE;
  return 0;
}

// xattr_permission(): `may` is kMayRead or kMayWrite.
Errno XattrPermission(const Credentials& c, const Attr& a, std::string_view name, int may) {
  const bool write = may & kMayWrite;
  if (HasPrefix(name, "trusted.")) {
    if (!c.HasCap(kCapSysAdmin)) return write ? EPERM : ENODATA;
    return 0;
  }
  if (HasPrefix(name, "user.")) {
    if (!a.IsRegular() && !a.IsDir()) return write ? EPERM : ENODATA;
    if (a.IsDir() && (a.mode & S_ISVTX) && write && !OwnerOrCapable(c, a)) return EPERM;
  }
  return VFS::CheckPermission(c, a, may);
}

}  // namespace

ErrorOr<std::string> VFS::GetXattr(const PathContext& ctx, const VirtualDentry& vd,
                                   std::string_view name) {
  TRY(CheckName(name));
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  TRY(XattrPermission(ctx.creds, a, name, kMayRead));
  return vd.dentry->inode()->GetXattr(name);
}

Errno VFS::SetXattr(const PathContext& ctx, const VirtualDentry& vd, std::string_view name,
                    std::string_view value, int flags) {
  TRY(CheckName(name));
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) return EINVAL;
  if (value.size() > 65536) return E2BIG;
  if (vd.mount->read_only()) return EROFS;
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  TRY(XattrPermission(ctx.creds, a, name, kMayWrite));
  TRY(vd.dentry->inode()->SetXattr(name, value, flags));
  NotifyDentry(*vd.dentry, IN_ATTRIB, a.IsDir());
  return 0;
}

ErrorOr<std::vector<std::string>> VFS::ListXattr(const PathContext& ctx, const VirtualDentry& vd) {
  std::vector<std::string> names = TRY_ASSIGN(vd.dentry->inode()->ListXattr());
  if (ctx.creds.HasCap(kCapSysAdmin)) return names;
  std::vector<std::string> out;
  for (std::string& n : names) {
    if (!HasPrefix(n, "trusted.")) out.push_back(std::move(n));
  }
  return out;
}

Errno VFS::RemoveXattr(const PathContext& ctx, const VirtualDentry& vd, std::string_view name) {
  TRY(CheckName(name));
  if (vd.mount->read_only()) return EROFS;
  Attr a = TRY_ASSIGN(vd.dentry->inode()->GetAttr());
  TRY(XattrPermission(ctx.creds, a, name, kMayWrite));
  TRY(vd.dentry->inode()->RemoveXattr(name));
  NotifyDentry(*vd.dentry, IN_ATTRIB, a.IsDir());
  return 0;
}

}  // namespace sentry::vfs
