// The mount tree: creating, stacking and listing mounts; Resolve; PathOf.
#include <sys/mount.h>

#include "absl/container/inlined_vector.h"

#include "fs/vfs/vfs_internal.h"

namespace sentry::vfs {
namespace {

// Drops parent -> child references so the trees can be freed (children
// keep their parent alive, parents keep cached children alive).
void ClearTree(Dentry& d) {
  std::vector<std::shared_ptr<Dentry>> kids;
  {
    absl::MutexLock l(&VfsInternal::mu(d));
    // Access through the friend: collect and clear.
    VfsInternal::TakeChildrenLocked(d, &kids);
  }
  for (auto& k : kids) ClearTree(*k);
}

}  // namespace

VFS::VFS() = default;

VFS::~VFS() {
  std::vector<std::shared_ptr<Mount>> mounts;
  {
    absl::MutexLock l(&mounts_mu_);
    mounts.swap(all_mounts_);
    mounted_.clear();
    root_.reset();
  }
  for (auto& m : mounts) ClearTree(*m->root);
}

std::shared_ptr<Mount> VFS::NewMount(std::shared_ptr<Filesystem> fs, std::shared_ptr<Inode> root,
                                     uint32_t flags, std::string source) {
  auto m = std::make_shared<Mount>();
  {
    absl::MutexLock l(&mounts_mu_);
    m->id = next_mount_id_++;
  }
  m->fs = std::move(fs);
  m->root = std::make_shared<Dentry>(std::move(root), "/", nullptr);
  m->flags = flags;
  m->source = std::move(source);
  return m;
}

void VFS::SetRoot(std::shared_ptr<Mount> m) {
  absl::MutexLock l(&mounts_mu_);
  bool known = false;
  for (auto& x : all_mounts_) known |= x == m;
  if (!known) all_mounts_.insert(all_mounts_.begin(), m);
  root_ = std::move(m);
}

VirtualDentry VFS::Root() {
  absl::ReaderMutexLock l(&mounts_mu_);
  if (!root_) return {};
  return VirtualDentry{root_, root_->root};
}

Errno VFS::Attach(std::shared_ptr<Mount> m, const VirtualDentry& at) {
  if (!at.ok() || !m || m->parent) return EINVAL;
  absl::MutexLock t(&tree_mu_);
  if (at.dentry->dead_) return ENOENT;
  absl::MutexLock l(&mounts_mu_);
  // Stack on whatever is already mounted here.
  VirtualDentry where = at;
  for (;;) {
    auto it = mounted_.find(std::make_pair(where.mount.get(), where.dentry.get()));
    if (it == mounted_.end() || it->second.empty()) break;
    auto top = it->second.back();
    where = VirtualDentry{top, top->root};
  }
  m->parent = where.mount;
  m->mountpoint = where.dentry;
  mounted_[std::make_pair(where.mount.get(), where.dentry.get())].push_back(m);
  {
    absl::MutexLock d(&where.dentry->mu_);
    where.dentry->mounts_++;
  }
  all_mounts_.push_back(std::move(m));
  return 0;
}

std::vector<std::shared_ptr<Mount>> VFS::Mounts() {
  absl::ReaderMutexLock l(&mounts_mu_);
  std::vector<std::shared_ptr<Mount>> out;
  if (!root_) return out;
  // Pre-order over the tree; children in the order they were attached.
  std::vector<std::shared_ptr<Mount>> stack{root_};
  while (!stack.empty()) {
    auto m = std::move(stack.back());
    stack.pop_back();
    out.push_back(m);
    for (auto it = all_mounts_.rbegin(); it != all_mounts_.rend(); ++it) {
      if ((*it)->parent == m) stack.push_back(*it);
    }
  }
  return out;
}

ErrorOr<VirtualDentry> VFS::Resolve(const PathContext& ctx, const VirtualDentry& start,
                                    std::string_view path, uint32_t flags) {
  absl::ReaderMutexLock l(&tree_mu_);
  VfsInternal::Walker w(this, ctx, start, flags);
  return w.Full(start, path, flags & kFollow, flags & kMustBeDir);
}

std::string VFS::PathOf(const VirtualDentry& vd, const VirtualDentry& root, bool* reachable) {
  absl::ReaderMutexLock l(&tree_mu_);
  if (reachable) *reachable = true;
  if (!vd.ok()) return "";
  // Collect names bottom-up, then join them once.
  absl::InlinedVector<const std::string*, 16> names;
  VirtualDentry cur = vd;
  bool ok = true;
  while (!(cur == root)) {
    if (cur.dentry == cur.mount->root || !cur.dentry->parent_) {
      if (!cur.mount->parent) {
        ok = false;  // walked up to the namespace root without meeting `root`
        break;
      }
      cur = VirtualDentry{cur.mount->parent, cur.mount->mountpoint};
      continue;
    }
    names.push_back(&cur.dentry->name_);
    cur.dentry = cur.dentry->parent_;
  }
  if (reachable) *reachable = ok;
  constexpr std::string_view kDeleted = " (deleted)";
  size_t len = names.empty() ? 1 : 0;
  for (const std::string* n : names) len += n->size() + 1;
  std::string out(len, '/');
  size_t pos = 0;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    pos++;  // the '/' already there
    (*it)->copy(out.data() + pos, (*it)->size());
    pos += (*it)->size();
  }
  if (vd.dentry->dead_) out.append(kDeleted.data(), kDeleted.size());
  return out;
}

Errno VFS::CheckPermission(const Credentials& c, const Attr& a, int may) {
  may &= kMayRead | kMayWrite | kMayExec;
  uint32_t mode = a.mode;
  if (c.fsuid == a.uid) {
    mode >>= 6;
  } else if (c.InGroup(a.gid)) {
    mode >>= 3;
  }
  if ((may & ~mode & 7) == 0) return 0;
  if (a.IsDir()) {
    // Directories: read and search are overridable by DAC_READ_SEARCH,
    // everything by DAC_OVERRIDE.
    if (!(may & kMayWrite) && c.HasCap(kCapDacReadSearch)) return 0;
    if (c.HasCap(kCapDacOverride)) return 0;
    return EACCES;
  }
  if (may == kMayRead && c.HasCap(kCapDacReadSearch)) return 0;
  // Execute is overridable only when someone may execute the file at all.
  if ((!(may & kMayExec) || (a.mode & 0111)) && c.HasCap(kCapDacOverride)) return 0;
  return EACCES;
}

}  // namespace sentry::vfs
