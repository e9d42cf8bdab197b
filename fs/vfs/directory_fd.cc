// DirectoryFD: getdents over a snapshot of Inode::ReadDir.
//
// Positions are indexes into the snapshot: 0 is ".", 1 is "..", 2 + i is
// entries_[i]. A record's d_off is its index + 1, so seeking to any d_off
// handed out continues right after that record, even while the directory
// changes; a new snapshot is taken whenever the position is 0.
#include "fs/vfs/file.h"

#include <dirent.h>

namespace sentry::vfs {

SysRet DirectoryFD::IterDirents(Task* t, DirentSink& sink) {
  absl::MutexLock l(&pos_mu_);
  Inode* dir = inode();
  if (dir == nullptr) return SysRet::Err(EBADF);
  if (pos_ == 0) entries_ = TRY_ASSIGN(dir->ReadDir());
  int64_t total = static_cast<int64_t>(entries_.size()) + 2;
  int64_t added = 0;
  while (pos_ < total) {
    DirEntry dot;
    const DirEntry* e;
    if (pos_ < 2) {
      // "." is this directory; ".." its parent within the same file system
      // (a file system root is its own parent, as in Linux's dcache).
      std::shared_ptr<Dentry> parent = vd().dentry->ParentSnapshot();
      Inode* target = (pos_ == 1 && parent) ? parent->inode().get() : dir;
      Attr a = TRY_ASSIGN(target->GetAttr());
      dot.name = pos_ == 0 ? "." : "..";
      dot.ino = a.ino;
      dot.type = DT_DIR;
      e = &dot;
    } else {
      e = &entries_[pos_ - 2];
    }
    if (!sink.Add(*e, pos_ + 1)) break;
    pos_++;
    added++;
  }
  // Like getdents64: a buffer too small for even one record is EINVAL.
  if (added == 0 && pos_ < total) return SysRet::Err(EINVAL);
  return added;
}

ErrorOr<int64_t> DirectoryFD::Seek(int64_t off, int whence) {
  absl::MutexLock l(&pos_mu_);
  int64_t r;
  switch (whence) {
    case SEEK_SET:
      r = off;
      break;
    case SEEK_CUR:
      if (__builtin_add_overflow(pos_, off, &r)) return Err(EINVAL);
      break;
    default:
      return Err(EINVAL);
  }
  if (r < 0) return Err(EINVAL);
  pos_ = r;
  return r;
}

}  // namespace sentry::vfs
