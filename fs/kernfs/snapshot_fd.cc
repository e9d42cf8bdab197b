// SnapshotFD: the open file of a DataFile.
//
// The text is generated on the first read, not at open: Linux's seq_file
// does the same, and it lets the content depend on the reader (a process
// reading its own /proc/self/stat sees itself running). Generation runs
// with no lock held, so a generator may take Kernel::tasks_mu_ without
// inverting the kernel lock order (tasks_mu_ before any file lock).
//
// Lock order: pos_mu_ > mu_ (both leaves with respect to the kernel).
#include <algorithm>
#include <cstring>

#include "fs/kernfs/kernfs.h"

namespace sentry::kernfs {
namespace {

// One write(2) to a /proc or /sys file is one value; Linux's sysctl and
// proc handlers look at no more than a page of it.
constexpr size_t kMaxWrite = 4096;

class SnapshotFD : public vfs::FileDescription {
 public:
  SnapshotFD(Generator gen, Writer w) : gen_(std::move(gen)), writer_(std::move(w)) {}

  SysRet Read(Task* t, IOSequence& dst) override {
    int64_t off = pos();
    auto data = TRY_ASSIGN(Data(t, off));
    absl::MutexLock l(&pos_mu_);
    size_t n = TRY_ASSIGN(CopyAt(*data, dst, pos_));
    pos_ += static_cast<int64_t>(n);
    return static_cast<int64_t>(n);
  }

  SysRet PRead(Task* t, IOSequence& dst, int64_t off) override {
    if (off < 0) return SysRet::Err(EINVAL);
    auto data = TRY_ASSIGN(Data(t, off));
    return static_cast<int64_t>(TRY_ASSIGN(CopyAt(*data, dst, off)));
  }

  SysRet Write(Task* t, IOSequence& src) override {
    int64_t off = pos();
    SysRet r = PWrite(t, src, off);
    if (r.ok() && r.value() > 0) {
      absl::MutexLock l(&pos_mu_);
      pos_ += r.value();
    }
    return r;
  }

  SysRet PWrite(Task* t, IOSequence& src, int64_t off) override {
    if (!writer_) return SysRet::Err(EINVAL);  // vfs_write without a write op
    if (off < 0) off = 0;  // O_APPEND: these files have no size to append at
    std::string buf(std::min(src.remaining(), kMaxWrite), '\0');
    if (buf.empty()) return 0;
    size_t n = TRY_ASSIGN(src.CopyIn(buf.data(), buf.size()));
    buf.resize(n);
    SysRet r = writer_(t, buf, off);
    if (!r.ok()) return r;
    // The handler saw one page at most; what it consumed is what the
    // caller wrote, as Linux reports the whole count for a short value.
    return r.value() >= static_cast<int64_t>(n) ? static_cast<int64_t>(n) : r;
  }

  // seq_lseek: SEEK_SET and SEEK_CUR only; the size is unknown.
  ErrorOr<int64_t> Seek(int64_t off, int whence) override {
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

 private:
  // The snapshot to read at `off`: a new one on the first read and when a
  // reader starts over from offset 0.
  ErrorOr<std::shared_ptr<const std::string>> Data(Task* t, int64_t off) {
    {
      absl::MutexLock l(&mu_);
      if (data_ && !(off == 0 && served_)) {
        served_ = true;
        return data_;
      }
    }
    std::string fresh = TRY_ASSIGN(gen_(t));
    auto d = std::make_shared<const std::string>(std::move(fresh));
    absl::MutexLock l(&mu_);
    data_ = d;
    served_ = true;
    return d;
  }

  static ErrorOr<size_t> CopyAt(const std::string& data, IOSequence& dst, int64_t off) {
    if (off < 0 || static_cast<uint64_t>(off) >= data.size()) return size_t{0};
    size_t n = std::min(dst.remaining(), data.size() - static_cast<size_t>(off));
    if (n == 0) return size_t{0};
    return dst.CopyOut(data.data() + off, n);
  }

  const Generator gen_;
  const Writer writer_;
  absl::Mutex mu_;
  std::shared_ptr<const std::string> data_ ABSL_GUARDED_BY(mu_);
  bool served_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

std::shared_ptr<vfs::FileDescription> NewSnapshotFD(Generator gen, Writer w) {
  return std::make_shared<SnapshotFD>(std::move(gen), std::move(w));
}

}  // namespace sentry::kernfs
