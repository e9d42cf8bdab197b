// Helpers shared by the VFS's .cc files: the path walker and the dentry
// cache primitives. Not for use outside fs/vfs.
//
// Every function here expects VFS::tree_mu_ held (shared at least) unless
// it says otherwise; "Locked" functions also expect the named Dentry::mu_
// held exclusively.
#ifndef FS_VFS_VFS_INTERNAL_H_
#define FS_VFS_VFS_INTERNAL_H_

#include <string>
#include <string_view>

#include "fs/vfs/vfs.h"

namespace sentry::vfs {

enum class LastType { kNorm, kDot, kDotDot, kRoot };

// The directory holding the last component of a path, and that component.
struct ParentPath {
  VirtualDentry dir;
  std::string last;  // kNorm only
  LastType type = LastType::kNorm;
  bool trailing_slash = false;
};

class VfsInternal {
 public:
  // One path resolution: its credentials, effective root and flags, and
  // the number of symlinks followed so far (shared by nested symlinks).
  class Walker {
   public:
    Walker(VFS* vfs, const PathContext& ctx, const VirtualDentry& start, uint32_t flags);
    // Resolves everything but the last component of `path` from `start`.
    ErrorOr<ParentPath> Parent(const VirtualDentry& start, std::string_view path);
    // Resolves the whole path; `follow` follows a final symlink.
    ErrorOr<VirtualDentry> Full(const VirtualDentry& start, std::string_view path, bool follow,
                                bool must_be_dir);
    // Finishes a Parent() result: looks the last component up.
    ErrorOr<VirtualDentry> Last(const ParentPath& p, bool follow, bool must_be_dir);
    // Follows the symlink `link` found in directory `dir`.
    ErrorOr<VirtualDentry> FollowLink(const VirtualDentry& dir, const VirtualDentry& link);
    const Credentials& creds() const { return *creds_; }
    Errno CrossDownPublic(VirtualDentry& vd) { return CrossDown(vd); }
    // Counts one followed symlink (ELOOP past kMaxSymlinks).
    Errno CountLink() { return ++links_ > kMaxSymlinks ? ELOOP : 0; }
    uint32_t flags() const { return flags_; }

   private:
    Errno DotDot(VirtualDentry& vd);
    Errno CrossDown(VirtualDentry& vd);
    // Returns the child (never negative: ENOENT) of directory `dir`.
    ErrorOr<VirtualDentry> Child(const VirtualDentry& dir, std::string_view name);
    Errno CheckSearch(const VirtualDentry& dir);

    VFS* vfs_;
    const PathContext* ctx_;
    const Credentials* creds_;
    VirtualDentry root_;
    uint32_t flags_;
    int links_ = 0;
  };

  // The cached child `name` of `dir` (maybe negative), filling the cache
  // from the file system on a miss. ENOENT in a dead directory.
  static ErrorOr<std::shared_ptr<Dentry>> LookupChild(const std::shared_ptr<Dentry>& dir,
                                                      std::string_view name);
  // Same, with dir->mu_ held exclusively by the caller.
  static ErrorOr<std::shared_ptr<Dentry>> LookupChildLocked(const std::shared_ptr<Dentry>& dir,
                                                            std::string_view name);
  // Records a newly created child (dir->mu_ held).
  static std::shared_ptr<Dentry> AddChildLocked(const std::shared_ptr<Dentry>& dir,
                                                std::string_view name,
                                                std::shared_ptr<Inode> inode);
  // Forgets `child` after it was removed (dir->mu_ held, tree_mu_
  // exclusive): marks it dead and caches a negative entry.
  static void RemoveChildLocked(const std::shared_ptr<Dentry>& dir,
                                const std::shared_ptr<Dentry>& child);

  static absl::Mutex& tree_mu(VFS& v) { return v.tree_mu_; }
  static absl::Mutex& mu(Dentry& d) { return d.mu_; }
  static bool dead(const Dentry& d) { return d.dead_; }
  static int mounts(const Dentry& d) { return d.mounts_; }
  static void SetNameParent(Dentry& d, std::string name, std::shared_ptr<Dentry> parent) {
    d.name_ = std::move(name);
    d.parent_ = std::move(parent);
  }
  static void SetChildLocked(Dentry& dir, std::string_view name, std::shared_ptr<Dentry> c);
  static void EraseChildLocked(Dentry& dir, std::string_view name);
  static void MarkDead(Dentry& d) { d.dead_ = true; }
  static void ChildrenLocked(Dentry& d, std::vector<std::shared_ptr<Dentry>>* out) {
    for (auto& [name, c] : d.children_) out->push_back(c);
  }
  static size_t DropUnusedLocked(Dentry& d);
  static void TakeChildrenLocked(Dentry& d, std::vector<std::shared_ptr<Dentry>>* out) {
    for (auto& [name, c] : d.children_) out->push_back(c);
    d.children_.clear();
  }
};

// Helpers for permission and ownership rules.
// "Does the caller own the inode or have CAP_FOWNER" (inode_owner_or_capable).
inline bool OwnerOrCapable(const Credentials& c, const Attr& a) {
  return c.fsuid == a.uid || c.HasCap(kCapFowner);
}
// Linux's may_create/may_delete pieces used by several operations.
Errno MayCreate(const Credentials& c, const Dentry& dir, const Attr& dir_attr);
Errno MayDelete(const Credentials& c, const Attr& dir_attr, const Attr& victim, bool isdir,
                const Dentry& victim_dentry);
// Owner and mode for a new child of `dir_attr` (inode_init_owner).
void InitOwner(const Credentials& c, const Attr& dir_attr, uint32_t* mode, uint32_t* uid,
               uint32_t* gid);

}  // namespace sentry::vfs

#endif  // FS_VFS_VFS_INTERNAL_H_
