// devpts (see devpts.h): fs/devpts/inode.c's nodes and index allocation,
// drivers/tty/pty.c's ptmx_open.
#include "fs/devpts/devpts.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "fs/kernfs/kernfs.h"
#include "fs/tty/pty.h"
#include "fs/vfs/device.h"
#include "sentry/kernel/kernel.h"

namespace sentry::devpts {
namespace {

constexpr uint64_t kDevptsMagic = 0x1cd1;

// A replica node: chmod and chown work on it (grantpt may use them).
class ReplicaNode : public kernfs::KernInode {
 public:
  ReplicaNode(kernfs::KernFs* fs, uint32_t index, uint32_t uid)
      : KernInode(fs, S_IFCHR | kReplicaMode), index_(index), uid_(uid) {}
  Errno SetAttrs(const vfs::SetAttr& s) override {
    absl::MutexLock l(&mu_);
    if (s.mask & vfs::SetAttr::kMode) mode_ = s.mode & 07777;
    if (s.mask & vfs::SetAttr::kUid) uid_ = s.uid;
    if (s.mask & vfs::SetAttr::kGid) gid_ = s.gid;
    return 0;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    absl::MutexLock l(&mu_);
    a.mode = S_IFCHR | mode_;
    a.uid = uid_;
    a.gid = gid_;
    a.rdev = makedev(tty::kPtyReplicaMajor, index_);
    return 0;
  }

 private:
  const uint32_t index_;
  absl::Mutex mu_;  // leaf
  uint32_t mode_ ABSL_GUARDED_BY(mu_) = kReplicaMode;
  uint32_t uid_ ABSL_GUARDED_BY(mu_);
  uint32_t gid_ ABSL_GUARDED_BY(mu_) = kTtyGid;
};

class PtmxNode : public kernfs::KernInode {
 public:
  explicit PtmxNode(kernfs::KernFs* fs) : KernInode(fs, S_IFCHR | kPtmxMode) {}

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    a.rdev = makedev(tty::kPtmxMajor, tty::kPtmxMinor);
    return 0;
  }
};

// The ptys by number.
class PtyTable {
 public:
  struct Entry {
    std::weak_ptr<tty::Pty> pty;
    std::shared_ptr<ReplicaNode> node;
  };
  // ptmx_open: a new pty, its master file, and its node.
  ErrorOr<std::shared_ptr<vfs::FileDescription>> OpenPtmx(Task* t);
  ErrorOr<std::shared_ptr<vfs::FileDescription>> OpenReplica(uint32_t index, uint32_t flags,
                                                             Task* t);
  // The node of a pty whose master is open, or null.
  std::shared_ptr<vfs::Inode> Node(uint32_t index);
  std::vector<uint32_t> Live();
  void set_fs(kernfs::KernFs* fs) { fs_ = fs; }

 private:
  std::shared_ptr<tty::Pty> Get(uint32_t index);
  void Release(uint32_t index);

  kernfs::KernFs* fs_ = nullptr;
  absl::Mutex mu_;  // leaf
  std::map<uint32_t, Entry> ptys_ ABSL_GUARDED_BY(mu_);
};

PtyTable& Table() {
  static PtyTable* t = new PtyTable;  // opened files may outlive static destructors
  return *t;
}

ErrorOr<std::shared_ptr<vfs::FileDescription>> PtyTable::OpenPtmx(Task* t) {
  uint32_t uid = t != nullptr ? t->creds().fsuid : 0;
  Kernel* k = t != nullptr ? &t->kernel() : nullptr;
  std::shared_ptr<tty::Pty> p;
  uint32_t index = 0;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [i, e] : ptys_) {
      if (i != index) break;
      index++;
    }
    if (index >= kMaxPtys) return Err(ENOSPC);
    p = std::make_shared<tty::Pty>(k, index, [this, index] { Release(index); });
    ptys_[index] = Entry{p, std::make_shared<ReplicaNode>(fs_, index, uid)};
  }
  vfs::RegisterCharDevice(tty::kPtyReplicaMajor, index,
                          [this, index](const vfs::VirtualDentry&, uint32_t flags, Task* t) {
                            return OpenReplica(index, flags, t);
                          });
  return tty::NewMasterFile(std::move(p));
}

std::shared_ptr<tty::Pty> PtyTable::Get(uint32_t index) {
  absl::MutexLock l(&mu_);
  auto it = ptys_.find(index);
  return it == ptys_.end() ? nullptr : it->second.pty.lock();
}

ErrorOr<std::shared_ptr<vfs::FileDescription>> PtyTable::OpenReplica(uint32_t index,
                                                                     uint32_t flags, Task* t) {
  std::shared_ptr<tty::Pty> p = Get(index);
  if (p == nullptr) return Err(EIO);
  TRY(p->OpenReplica());
  auto f = tty::NewReplicaFile(p);
  if (!(flags & O_NOCTTY)) p->MaybeAcquireOnOpen(t);
  return f;
}

std::shared_ptr<vfs::Inode> PtyTable::Node(uint32_t index) {
  std::shared_ptr<tty::Pty> p;
  std::shared_ptr<vfs::Inode> node;
  {
    absl::MutexLock l(&mu_);
    auto it = ptys_.find(index);
    if (it == ptys_.end()) return nullptr;
    p = it->second.pty.lock();
    node = it->second.node;
  }
  // devpts_pty_kill: the node goes when the master closes.
  if (p == nullptr || !p->master_open()) return nullptr;
  return node;
}

std::vector<uint32_t> PtyTable::Live() {
  std::vector<uint32_t> all;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [i, e] : ptys_) all.push_back(i);
  }
  std::vector<uint32_t> out;
  for (uint32_t i : all) {
    if (Node(i) != nullptr) out.push_back(i);
  }
  return out;
}

void PtyTable::Release(uint32_t index) {
  vfs::UnregisterCharDevice(tty::kPtyReplicaMajor, index);
  absl::MutexLock l(&mu_);
  ptys_.erase(index);
}

class DevptsRoot : public kernfs::DirBase {
 public:
  DevptsRoot(kernfs::KernFs* fs) : DirBase(fs, 0755), ptmx_(std::make_shared<PtmxNode>(fs)) {}

  ErrorOr<std::shared_ptr<vfs::Inode>> Lookup(std::string_view name) override {
    if (name == "ptmx") return std::shared_ptr<vfs::Inode>(ptmx_);
    uint32_t index;
    // Only canonical numbers: "01" is not pty 1.
    if (name.empty() || (name.size() > 1 && name[0] == '0') || !absl::SimpleAtoi(std::string(name), &index)) {
      return Err(ENOENT);
    }
    for (char c : name) {
      if (c < '0' || c > '9') return Err(ENOENT);
    }
    auto node = Table().Node(index);
    if (node == nullptr) return Err(ENOENT);
    return node;
  }
  ErrorOr<std::vector<vfs::DirEntry>> ReadDir() override {
    std::vector<vfs::DirEntry> out;
    out.push_back(vfs::DirEntry{"ptmx", ptmx_->ino(), DT_CHR});
    for (uint32_t i : Table().Live()) {
      auto node = Table().Node(i);
      if (node == nullptr) continue;
      out.push_back(vfs::DirEntry{std::to_string(i),
                                  static_cast<kernfs::KernInode*>(node.get())->ino(), DT_CHR});
    }
    return out;
  }

 protected:
  Errno FillAttr(vfs::Attr& a) override {
    a.nlink = 2;
    return 0;
  }

 private:
  std::shared_ptr<PtmxNode> ptmx_;
};

}  // namespace

std::shared_ptr<vfs::Filesystem> NewDevpts() {
  auto fs = std::make_shared<kernfs::KernFs>("devpts", kDevptsMagic, /*cache_dentries=*/false,
                                             /*create_errno=*/EPERM);
  fs->set_mount_options("gid=5,mode=620,ptmxmode=666");
  fs->set_root(std::make_shared<DevptsRoot>(fs.get()));
  Table().set_fs(fs.get());
  vfs::RegisterCharDevice(tty::kPtmxMajor, tty::kPtmxMinor,
                          [](const vfs::VirtualDentry&, uint32_t, Task* t) {
                            return Table().OpenPtmx(t);
                          });
  return fs;
}

}  // namespace sentry::devpts
