// /proc/<pid>/fd/, /proc/<pid>/fdinfo/ and the cwd, root and exe links
// (fs/proc/fd.c, base.c: proc_fd_link, proc_cwd_link, proc_exe_link).
//
// These are magic links: following one jumps to the object itself, not to
// its path, so a deleted or renamed file still opens, and files without a
// path (pipes, host files) reopen through a proxy (proxy.cc). readlink
// shows the path from the reader's root, or the file's anonymous name
// ("pipe:[N]").
#include <dirent.h>

#include "absl/strings/str_format.h"
#include "fs/proc/proc_internal.h"

namespace sentry::proc {
namespace {

// The kernel's O_LARGEFILE: open(2) on 64-bit sets it in every file it
// opens (glibc's constant is 0 on x86-64).
constexpr uint32_t kOLargefile = 0100000;

ErrorOr<std::shared_ptr<vfs::FileDescription>> FileAt(const TaskRef& r, int fd, bool* cloexec) {
  auto t = r.Get();
  if (!t.ok()) return Err(ENOENT);
  auto fds = FDsOf(r, t->get());
  if (!fds) return Err(ENOENT);
  auto f = fds->Get(fd, cloexec);
  if (!f) return Err(ENOENT);
  return f;
}

std::string PathText(ProcFs* fs, const vfs::VirtualDentry& vd, const vfs::PathContext* ctx) {
  vfs::VFS* v = fs->kernel()->vfs();
  vfs::VirtualDentry root = (ctx != nullptr && ctx->root.ok()) ? ctx->root : v->Root();
  return v->PathOf(vd, root);
}

// A magic link to a task's object; subclasses say which object.
class TaskMagicLink : public Owned<kernfs::KernInode> {
 public:
  TaskMagicLink(const TaskRef& r, uint32_t perm, uint64_t ino)
      : Owned(r, r.fs, S_IFLNK | perm, ino) {}
  bool IsMagicLink() const override { return true; }
  ErrorOr<std::string> ReadLink() override { return Text(nullptr); }
  ErrorOr<std::string> ReadLinkFor(const vfs::PathContext& ctx) override { return Text(&ctx); }
  // The Sentry itself (no caller) may follow any link.
  ErrorOr<vfs::VirtualDentry> MagicLinkTarget() override { return Target(); }
  ErrorOr<vfs::VirtualDentry> MagicLinkTargetFor(const vfs::PathContext& ctx) override {
    TRY(Check(ctx));
    return Target();
  }

 protected:
  virtual ErrorOr<vfs::VirtualDentry> Target() = 0;
  virtual ErrorOr<std::string> Text(const vfs::PathContext* ctx) {
    if (ctx != nullptr) TRY(Check(*ctx));
    vfs::VirtualDentry vd = TRY_ASSIGN(Target());
    return PathText(ref_.fs, vd, ctx);
  }
  Errno Check(const vfs::PathContext& ctx) {
    auto t = ref_.Get();
    if (!t.ok()) return ENOENT;
    return MayAccessTask(ctx, t->get());
  }
};

class FdLink : public TaskMagicLink {
 public:
  FdLink(const TaskRef& r, int fd, uint32_t perm, uint64_t ino)
      : TaskMagicLink(r, perm, ino), fd_(fd) {}

 protected:
  ErrorOr<vfs::VirtualDentry> Target() override {
    auto f = TRY_ASSIGN(FileAt(ref_, fd_, nullptr));
    if (f->vd().ok()) return f->vd();
    return ref_.fs->ProxyFor(std::move(f));
  }
  ErrorOr<std::string> Text(const vfs::PathContext* ctx) override {
    if (ctx != nullptr) TRY(Check(*ctx));
    auto f = TRY_ASSIGN(FileAt(ref_, fd_, nullptr));
    std::string anon = f->AnonName();
    if (!anon.empty() || !f->vd().ok()) return anon.empty() ? "anon_inode:[unknown]" : anon;
    return PathText(ref_.fs, f->vd(), ctx);
  }
  Errno FillAttr(vfs::Attr& a) override {
    TRY(TaskMagicLink::FillAttr(a));
    a.size = 64;  // what Linux reports for every fd link
    return 0;
  }

 private:
  const int fd_;
};

class TaskLink : public TaskMagicLink {
 public:
  TaskLink(const TaskRef& r, LinkKind kind, uint64_t ino) : TaskMagicLink(r, 0777, ino), kind_(kind) {}

 protected:
  ErrorOr<vfs::VirtualDentry> Target() override {
    auto t = ref_.Get();
    if (!t.ok()) return Err(ENOENT);
    vfs::VirtualDentry vd;
    if (kind_ == LinkKind::kExe) {
      if (auto mm = MMOf(ref_, t->get())) vd = mm->executable();
    } else if (auto fsc = FSOf(ref_, t->get())) {
      vd = kind_ == LinkKind::kCwd ? fsc->cwd() : fsc->root();
    }
    if (!vd.ok()) return Err(ENOENT);  // a zombie's links lead nowhere
    return vd;
  }

 private:
  const LinkKind kind_;
};

// proc_fd_link's mode: r-x for reading, -wx for writing, both for O_RDWR.
uint32_t FdLinkPerm(const vfs::FileDescription& f) {
  uint32_t perm = 0;
  if (f.readable()) perm |= 0500;
  if (f.writable()) perm |= 0300;
  return perm;
}

class FdDir : public Owned<kernfs::DirBase> {
 public:
  FdDir(const TaskRef& r, uint64_t ino, bool info) : Owned(r, r.fs, info ? 0555 : 0500, ino), info_(info) {}

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    int64_t fd = ParseDecimalName(name);
    if (fd < 0) return Err(ENOENT);
    auto f = TRY_ASSIGN(FileAt(ref_, static_cast<int>(fd), nullptr));
    uint64_t ino = TaskIno(ref_, absl::StrFormat("%s/%d", info_ ? "fdinfo" : "fd", fd));
    if (!info_) {
      return std::shared_ptr<vfs::Inode>(
          std::make_shared<FdLink>(ref_, static_cast<int>(fd), FdLinkPerm(*f), ino));
    }
    kernfs::Generator gen = [r = ref_, fd = static_cast<int>(fd)](Task* reader) -> ErrorOr<std::string> {
      // proc_fdinfo_access_allowed: the directory is world-readable, the
      // contents are for whoever may ptrace the process.
      if (reader != nullptr) {
        auto t = TRY_ASSIGN(r.Get());
        vfs::PathContext c;
        c.task = reader;
        c.creds = reader->creds();
        TRY(MayAccessTask(c, t.get()));
      }
      bool cloexec = false;
      auto f = TRY_ASSIGN(FileAt(r, fd, &cloexec));
      uint32_t flags = f->flags() | (cloexec ? O_CLOEXEC : 0u) | (f->vd().ok() ? kOLargefile : 0u);
      auto a = f->Stat();
      return absl::StrFormat("pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%u\n", f->pos(), flags,
                             f->vd().ok() ? f->vd().mount->id : 0, a.ok() ? a->ino : 0);
    };
    return std::shared_ptr<vfs::Inode>(std::make_shared<Owned<kernfs::DataFile>>(
        ref_, ref_.fs, 0444, std::move(gen), kernfs::Writer(), kernfs::ReadOnlyPolicy::kFailWrite,
        ino));
  }

  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override {
    std::vector<int> fds = TRY_ASSIGN(List());
    std::vector<vfs::DirEntry> out;
    out.reserve(fds.size());
    for (int fd : fds) {
      uint64_t ino = TaskIno(ref_, absl::StrFormat("%s/%d", info_ ? "fdinfo" : "fd", fd));
      out.push_back(vfs::DirEntry{absl::StrFormat("%d", fd), ino,
                                  static_cast<uint8_t>(info_ ? DT_REG : DT_LNK)});
    }
    return out;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    TRY(Owned::FillAttr(a));
    if (!info_) {
      auto fds = List();
      if (fds.ok()) a.size = fds->size();  // Linux counts the open fds here
    }
    return 0;
  }

 private:
  ErrorOr<std::vector<int>> List() {
    auto t = ref_.Get();
    if (!t.ok()) return Err(ENOENT);
    auto table = FDsOf(ref_, t->get());
    if (!table) return std::vector<int>{};
    return table->Fds();
  }

  const bool info_;
};

}  // namespace

std::shared_ptr<vfs::Inode> NewFdDir(const TaskRef& r, uint64_t ino) {
  return std::make_shared<FdDir>(r, ino, /*info=*/false);
}
std::shared_ptr<vfs::Inode> NewFdInfoDir(const TaskRef& r, uint64_t ino) {
  return std::make_shared<FdDir>(r, ino, /*info=*/true);
}
std::shared_ptr<vfs::Inode> NewTaskLink(const TaskRef& r, LinkKind kind, uint64_t ino) {
  return std::make_shared<TaskLink>(r, kind, ino);
}

}  // namespace sentry::proc
