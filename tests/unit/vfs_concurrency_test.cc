// Concurrent path operations: lookups, creates, unlinks and renames from
// several threads must neither deadlock nor leave the dentry cache out of
// step with the file system.
#include <stdio.h>

#include <atomic>
#include <thread>

#include "fs/overlay/overlay.h"
#include "tests/unit/fs_test_util.h"

namespace sentry::testing {
namespace {

class VfsConcurrencyTest : public FsTest {
 protected:
  // Runs mixed operations under `base` from 4 threads, then checks that
  // every cached answer matches the file system's.
  void Hammer(const std::string& base) {
    for (const char* d : {"/a", "/b"}) {
      Errno e = Mkdir(base + d);
      ASSERT_TRUE(e == 0 || e == EEXIST);
    }
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++) {
      ts.emplace_back([this, t, &base] {
        vfs::PathContext c = ctx_;
        for (int i = 0; i < 300; i++) {
          std::string n = std::to_string((i * 7 + t) % 10);
          std::string pa = base + "/a/f" + n, pb = base + "/b/f" + n;
          switch ((i + t) % 6) {
            case 0:
              (void)vfs_->Open(c, c.cwd, pa, O_CREAT | O_WRONLY, 0644);
              break;
            case 1:
              (void)vfs_->Unlink(c, c.cwd, pa);
              break;
            case 2:
              (void)vfs_->Rename(c, c.cwd, pa, c.cwd, pb, 0);
              break;
            case 3:
              (void)vfs_->Rename(c, c.cwd, pb, c.cwd, pa, RENAME_EXCHANGE);
              break;
            case 4:
              (void)vfs_->Mkdir(c, c.cwd, base + "/a/d" + n, 0755);
              (void)vfs_->Rmdir(c, c.cwd, base + "/a/d" + n);
              break;
            default:
              (void)vfs_->Resolve(c, c.cwd, pb, vfs::kFollow);
              break;
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    // The cache agrees with a fresh listing.
    for (const char* d : {"/a", "/b"}) {
      std::vector<std::string> names = List(base + d);
      for (int i = 0; i < 10; i++) {
        for (const char* p : {"f", "d"}) {
          std::string n = p + std::to_string(i);
          bool listed = std::find(names.begin(), names.end(), n) != names.end();
          EXPECT_EQ(ResolveErr(base + d + "/" + n, 0) == 0, listed) << base << d << "/" << n;
        }
      }
    }
  }
};

TEST_F(VfsConcurrencyTest, Tmpfs) { Hammer(""); }

TEST_F(VfsConcurrencyTest, Overlay) {
  ASSERT_EQ(Mkdir("/lower"), 0);
  ASSERT_EQ(Mkdir("/ov"), 0);
  MountTmpfs("/lower");
  ASSERT_EQ(Mkdir("/lower/a"), 0);
  for (int i = 0; i < 10; i += 2) ASSERT_EQ(Touch("/lower/a/f" + std::to_string(i)), 0);
  auto lower_fs = Must("/lower").mount->fs;
  auto upper_fs = tmpfs::NewTmpfs(mf_.get(), tmpfs::TmpfsOptions{});
  auto ov = overlay::NewOverlay(tmpfs::TmpfsRoot(upper_fs.get()),
                                tmpfs::TmpfsRoot(lower_fs.get()), upper_fs, lower_fs);
  auto m = vfs_->NewMount(ov, overlay::OverlayRoot(ov.get()), 0, "overlay");
  ASSERT_EQ(vfs_->Attach(m, Must("/ov")), 0);
  Hammer("/ov");
}

}  // namespace
}  // namespace sentry::testing
