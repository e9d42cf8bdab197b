// KernFs, KernInode, directories and files (see kernfs.h).
#include "fs/kernfs/kernfs.h"

#include <sys/statfs.h>

namespace sentry::kernfs {

KernFs::KernFs(std::string name, uint64_t magic, bool cache_dentries, int create_errno)
    : name_(std::move(name)),
      magic_(magic),
      cache_(cache_dentries),
      create_errno_(create_errno),
      created_(vfs::Now()) {}

Errno KernFs::StatFS(struct statfs* out) {
  *out = {};
  out->f_type = static_cast<__fsword_t>(magic_);
  out->f_bsize = 4096;
  out->f_frsize = 4096;
  out->f_namelen = 255;
  return 0;
}

std::shared_ptr<vfs::Inode> RootInode(const std::shared_ptr<vfs::Filesystem>& fs) {
  auto* k = dynamic_cast<KernFs*>(fs.get());
  return k ? k->root() : nullptr;
}

KernInode::KernInode(KernFs* fs, uint32_t mode, uint64_t ino)
    : vfs::Inode(fs), ino_(ino != 0 ? ino : vfs::NextInodeNumber()), mode_(mode) {}

ErrorOr<vfs::Attr> KernInode::GetAttr() {
  vfs::Attr a;
  a.dev = fs()->dev();
  a.ino = ino_;
  a.mode = mode_;
  a.nlink = (mode_ & S_IFMT) == S_IFDIR ? 2 : 1;
  a.blksize = 1024;  // what Linux's pseudo file systems report
  a.atime = a.mtime = a.ctime = a.btime = kfs()->created();
  TRY(FillAttr(a));
  return a;
}

Errno KernInode::SetAttrs(const vfs::SetAttr& a) {
  if (a.mask & (vfs::SetAttr::kMode | vfs::SetAttr::kUid | vfs::SetAttr::kGid)) return EPERM;
  if ((a.mask & vfs::SetAttr::kSize) && (mode_ & S_IFMT) == S_IFDIR) return EISDIR;
  return 0;
}

// Linux has no create/remove operations on these directories; the VFS then
// answers EPERM (sysfs, devtmpfs here) or, for /proc, the lookup already
// failed with ENOENT.
ErrorOr<std::shared_ptr<vfs::Inode>> DirBase::CreateChild(std::string_view, uint32_t, uint64_t,
                                                          uint32_t, uint32_t) {
  return Err(kfs()->create_errno());
}
ErrorOr<std::shared_ptr<vfs::Inode>> DirBase::CreateSymlink(std::string_view, std::string_view,
                                                            uint32_t, uint32_t) {
  return Err(kfs()->create_errno());
}
Errno DirBase::Link(std::string_view, const std::shared_ptr<vfs::Inode>&) {
  return kfs()->create_errno();
}
Errno DirBase::Unlink(std::string_view) { return EPERM; }
Errno DirBase::Rmdir(std::string_view) { return EPERM; }
Errno DirBase::Rename(std::string_view, vfs::Inode*, std::string_view, uint32_t) { return EPERM; }

std::shared_ptr<vfs::Inode> StaticDir::Add(std::string name, std::shared_ptr<vfs::Inode> child) {
  children_.emplace_back(std::move(name), child);
  return child;
}

std::shared_ptr<StaticDir> StaticDir::AddDir(std::string name, uint32_t perm) {
  auto d = std::make_shared<StaticDir>(kfs(), perm);
  Add(std::move(name), d);
  return d;
}

void StaticDir::AddFile(std::string name, uint32_t perm, Generator gen, Writer w) {
  // Without a writer, opening for writing fails outright, as sysfs and
  // sysctl do (kernfs_fop_open, proc_sys_permission).
  ReadOnlyPolicy ro = w ? ReadOnlyPolicy::kFailWrite : ReadOnlyPolicy::kFailOpen;
  Add(std::move(name), std::make_shared<DataFile>(kfs(), perm, std::move(gen), std::move(w), ro));
}

void StaticDir::AddText(std::string name, std::string text, uint32_t perm) {
  AddFile(std::move(name), perm, Constant(std::move(text)));
}

void StaticDir::AddSymlink(std::string name, std::string target) {
  Add(std::move(name), std::make_shared<Symlink>(kfs(), std::move(target)));
}

ErrorOr<std::shared_ptr<vfs::Inode>> StaticDir::Lookup(std::string_view name) {
  for (const auto& [n, c] : children_) {
    if (n == name) return c;
  }
  return Err(ENOENT);
}

ErrorOr<std::vector<vfs::DirEntry>> StaticDir::ReadDir() {
  std::vector<vfs::DirEntry> out;
  out.reserve(children_.size());
  for (const auto& [n, c] : children_) {
    vfs::Attr a = TRY_ASSIGN(c->GetAttr());
    out.push_back(vfs::DirEntry{n, a.ino, vfs::DirentType(a.mode)});
  }
  return out;
}

Errno StaticDir::FillAttr(vfs::Attr& a) {
  // "." and ".." plus one ".." in each subdirectory.
  for (const auto& [n, c] : children_) {
    auto* k = dynamic_cast<KernInode*>(c.get());
    if (k != nullptr && (k->mode() & S_IFMT) == S_IFDIR) a.nlink++;
  }
  return 0;
}

DataFile::DataFile(KernFs* fs, uint32_t perm, Generator gen, Writer w, ReadOnlyPolicy ro,
                   uint64_t ino)
    : KernInode(fs, S_IFREG | perm, ino), gen_(std::move(gen)), writer_(std::move(w)), ro_(ro) {}

ErrorOr<std::shared_ptr<vfs::FileDescription>> DataFile::Open(const vfs::OpenOptions& opts) {
  bool write = (opts.flags & O_ACCMODE) != O_RDONLY;
  if (write && !writer_ && ro_ == ReadOnlyPolicy::kFailOpen) return Err(EACCES);
  return NewSnapshotFD(gen_, writer_);
}

Generator Constant(std::string text) {
  return [text = std::move(text)](Task*) -> ErrorOr<std::string> { return text; };
}

}  // namespace sentry::kernfs
