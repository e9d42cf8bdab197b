// Reopening files that have no path, through /proc/<pid>/fd/N.
//
// Linux reaches a pipe's or socket's inode on an internal mount (pipefs,
// sockfs) and opens it like any inode: a pipe gets a new end with the
// requested access (FIFO semantics), a socket fails with ENXIO. This is
// what makes `cat /dev/stdin` and `echo hi > /dev/stdout` work when the
// standard streams are pipes. The Sentry's anonymous files have no inode,
// so ProxyFor gives each a dentry on a detached internal mount whose inode
// stands for the open file (Inode::OpensAsProxy), and opening it makes:
//   - for a pipe, a new end on the same pipe;
//   - for a socket, ENXIO;
//   - for anything else (host files, eventfds, ...), a file that forwards
//     to the original, if the requested access is a subset of the
//     original's (EACCES otherwise). Unlike Linux it shares the original's
//     file position and does not truncate on O_TRUNC.
#include <poll.h>
#include <sys/ioctl.h>

#include "absl/strings/str_format.h"
#include "fs/pipe/pipe.h"
#include "fs/proc/proc_internal.h"

namespace sentry::proc {
namespace {

constexpr uint64_t kAnonInodeFsMagic = 0x09041934;

// Everything but the status flags goes to the original file.
class ForwardingFD : public vfs::FileDescription {
 public:
  explicit ForwardingFD(std::shared_ptr<vfs::FileDescription> f) : f_(std::move(f)) {}
  const std::shared_ptr<vfs::FileDescription>& original() const { return f_; }
  SysRet Read(Task* t, IOSequence& dst) override { return f_->Read(t, dst); }
  SysRet Write(Task* t, IOSequence& src) override { return f_->Write(t, src); }
  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override { return f_->PRead(t, dst, off); }
  SysRet PWrite(Task* t, IOSequence& src, int64_t off) override { return f_->PWrite(t, src, off); }
  ErrorOr<int64_t> Seek(int64_t off, int whence) override { return f_->Seek(off, whence); }
  bool seekable() const override { return f_->seekable(); }
  SysRet IterDirents(Task* t, vfs::DirentSink& sink) override { return f_->IterDirents(t, sink); }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override { return f_->Ioctl(t, cmd, arg); }
  ErrorOr<vfs::Attr> Stat() override { return f_->Stat(); }
  Errno Sync() override { return f_->Sync(); }
  Errno Allocate(int mode, uint64_t off, uint64_t len) override {
    return f_->Allocate(mode, off, len);
  }
  uint32_t Readiness(uint32_t mask) override { return f_->Readiness(mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { f_->EventRegister(w, mask); }
  void EventUnregister(Waiter* w) override { f_->EventUnregister(w); }
  ErrorOr<std::shared_ptr<Mappable>> GetMappable() override { return f_->GetMappable(); }
  std::string AnonName() const override { return f_->AnonName(); }

 private:
  const std::shared_ptr<vfs::FileDescription> f_;
};

class ProxyInode : public kernfs::KernInode {
 public:
  ProxyInode(kernfs::KernFs* fs, std::shared_ptr<vfs::FileDescription> f)
      : KernInode(fs, S_IFREG | 0600), f_(std::move(f)) {}
  ErrorOr<vfs::Attr> GetAttr() override { return f_->Stat(); }
  bool OpensAsProxy() const override { return true; }
  Errno SetAttrs(const vfs::SetAttr& a) override {
    // O_TRUNC reaches here for host regular files; it is not forwarded.
    if (a.mask & (vfs::SetAttr::kMode | vfs::SetAttr::kUid | vfs::SetAttr::kGid)) return EPERM;
    return 0;
  }
  ErrorOr<std::shared_ptr<vfs::FileDescription>> Open(const vfs::OpenOptions& opts) override {
    std::shared_ptr<vfs::Pipe> p = vfs::SharedPipe(f_.get());
    if (p) {
      // fifo_open on a pipe's own inode: a new end that neither waits for
      // the other side nor fails without one.
      uint64_t seen = TRY_ASSIGN(p->OpenEnd(opts.flags, /*is_fifo=*/false, nullptr));
      return vfs::NewPipeEnd(std::move(p), opts.flags, seen, /*named=*/false);
    }
    vfs::Attr a = TRY_ASSIGN(f_->Stat());
    if (a.type() == S_IFSOCK) return Err(ENXIO);
    uint32_t acc = opts.flags & O_ACCMODE;
    if ((acc != O_WRONLY && !f_->readable()) || (acc != O_RDONLY && !f_->writable())) {
      return Err(EACCES);
    }
    return std::shared_ptr<vfs::FileDescription>(std::make_shared<ForwardingFD>(f_));
  }

 private:
  const std::shared_ptr<vfs::FileDescription> f_;
};

}  // namespace

ProcFs::ProcFs(Kernel* k, ProcOptions opts)
    : KernFs("proc", /*PROC_SUPER_MAGIC*/ 0x9fa0, /*cache_dentries=*/false, /*create_errno=*/ENOENT),
      k_(k),
      opts_(std::move(opts)),
      boot_time_(vfs::Now().tv_sec - static_cast<int64_t>(k->UptimeNs() / 1000000000ull)),
      boot_id_(NewUuid()) {
  anon_fs_ = std::make_shared<kernfs::KernFs>("anon_inodefs", kAnonInodeFsMagic,
                                              /*cache_dentries=*/false, EPERM);
  auto root = std::make_shared<kernfs::StaticDir>(anon_fs_.get(), 0500);
  anon_fs_->set_root(root);
  anon_mount_ = k->vfs()->NewMount(anon_fs_, root, 0, "anon_inodefs");
}

vfs::VirtualDentry ProcFs::ProxyFor(std::shared_ptr<vfs::FileDescription> f) {
  // A file reopened through /proc stands for its original.
  if (auto* fwd = dynamic_cast<ForwardingFD*>(f.get())) f = fwd->original();
  std::string name = f->AnonName();
  auto inode = std::make_shared<ProxyInode>(anon_fs_.get(), std::move(f));
  auto d = std::make_shared<vfs::Dentry>(std::move(inode), std::move(name), anon_mount_->root);
  return vfs::VirtualDentry{anon_mount_, std::move(d)};
}

}  // namespace sentry::proc
