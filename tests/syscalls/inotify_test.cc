// inotify: events on a directory's entries and on files themselves,
// renames with cookies, removal, oneshot and mask flags, readiness,
// merging of repeated events, and the errors of each call.

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

struct Ev {
  int wd;
  uint32_t mask;
  uint32_t cookie;
  std::string name;
};

// Everything queued now (the instance is non-blocking).
std::vector<Ev> Drain(int fd) {
  std::vector<Ev> out;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* e = reinterpret_cast<inotify_event*>(buf + off);
      out.push_back({e->wd, e->mask, e->cookie, e->len ? std::string(e->name) : ""});
      off += sizeof(inotify_event) + e->len;
    }
  }
  return out;
}

std::string Describe(const std::vector<Ev>& evs) {
  std::string s;
  for (const Ev& e : evs) s += std::to_string(e.wd) + ":" + std::to_string(e.mask) + ":" + e.name + " ";
  return s;
}

FileDescriptor NewInotify() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) ThrowErrno("inotify_init1");
  return FileDescriptor(fd);
}

TEST(InotifyTest, DirectoryEntries) {
  TempPath dir = TempPath::Dir();
  FileDescriptor in = NewInotify();
  int wd;
  ASSERT_THAT(wd = inotify_add_watch(in.get(), dir.c_str(), IN_ALL_EVENTS), SyscallSucceeds());
  std::string f = dir.Child("f");
  int fd;
  ASSERT_THAT(fd = open(f.c_str(), O_CREAT | O_WRONLY, 0644), SyscallSucceeds());
  ASSERT_THAT(write(fd, "abc", 3), SyscallSucceedsWithValue(3));
  ASSERT_THAT(write(fd, "def", 3), SyscallSucceedsWithValue(3));  // merged with the first
  close(fd);
  ASSERT_THAT(mkdir(dir.Child("d").c_str(), 0755), SyscallSucceeds());
  ASSERT_THAT(rmdir(dir.Child("d").c_str()), SyscallSucceeds());
  ASSERT_THAT(unlink(f.c_str()), SyscallSucceeds());
  std::vector<Ev> evs = Drain(in.get());
  std::vector<std::pair<uint32_t, std::string>> want = {
      {IN_CREATE, "f"},           {IN_OPEN, "f"},
      {IN_MODIFY, "f"},           {IN_CLOSE_WRITE, "f"},
      {IN_CREATE | IN_ISDIR, "d"}, {IN_DELETE | IN_ISDIR, "d"},
      {IN_DELETE, "f"},
  };
  ASSERT_EQ(evs.size(), want.size()) << Describe(evs);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(evs[i].wd, wd);
    EXPECT_EQ(evs[i].mask, want[i].first) << i << " " << Describe(evs);
    EXPECT_EQ(evs[i].name, want[i].second) << i;
  }
}

TEST(InotifyTest, FileItself) {
  TempPath dir = TempPath::Dir();
  TempPath file = TempPath::File("data", dir.path());
  FileDescriptor in = NewInotify();
  int wd;
  ASSERT_THAT(wd = inotify_add_watch(in.get(), file.c_str(), IN_ALL_EVENTS), SyscallSucceeds());
  ASSERT_THAT(chmod(file.c_str(), 0600), SyscallSucceeds());
  int fd;
  ASSERT_THAT(fd = open(file.c_str(), O_RDONLY), SyscallSucceeds());
  char buf[8];
  ASSERT_THAT(read(fd, buf, sizeof(buf)), SyscallSucceedsWithValue(4));
  close(fd);
  ASSERT_THAT(truncate(file.c_str(), 1), SyscallSucceeds());
  ASSERT_THAT(unlink(file.c_str()), SyscallSucceeds());
  file.release();
  std::vector<Ev> evs = Drain(in.get());
  std::vector<uint32_t> want = {IN_ATTRIB, IN_OPEN,   IN_ACCESS,      IN_CLOSE_NOWRITE,
                                IN_MODIFY, IN_ATTRIB, IN_DELETE_SELF, IN_IGNORED};
  ASSERT_EQ(evs.size(), want.size()) << Describe(evs);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(evs[i].mask, want[i]) << i << " " << Describe(evs);
    EXPECT_EQ(evs[i].wd, wd);
    EXPECT_EQ(evs[i].name, "");
  }
}

TEST(InotifyTest, RenameCookies) {
  TempPath dir = TempPath::Dir();
  TempPath sub = TempPath::Dir(dir.path());
  TempPath file = TempPath::File("x", dir.path());
  FileDescriptor in = NewInotify();
  int dwd, swd, fwd;
  ASSERT_THAT(dwd = inotify_add_watch(in.get(), dir.c_str(), IN_MOVE), SyscallSucceeds());
  ASSERT_THAT(swd = inotify_add_watch(in.get(), sub.c_str(), IN_MOVE), SyscallSucceeds());
  ASSERT_THAT(fwd = inotify_add_watch(in.get(), file.c_str(), IN_MOVE_SELF), SyscallSucceeds());
  std::string base = file.path().substr(dir.path().size() + 1);
  std::string to = sub.Child("moved");
  ASSERT_THAT(rename(file.c_str(), to.c_str()), SyscallSucceeds());
  file.release();
  std::vector<Ev> evs = Drain(in.get());
  ASSERT_EQ(evs.size(), 3u) << Describe(evs);
  EXPECT_EQ(evs[0].wd, dwd);
  EXPECT_EQ(evs[0].mask, IN_MOVED_FROM);
  EXPECT_EQ(evs[0].name, base);
  EXPECT_EQ(evs[1].wd, swd);
  EXPECT_EQ(evs[1].mask, IN_MOVED_TO);
  EXPECT_EQ(evs[1].name, "moved");
  EXPECT_NE(evs[0].cookie, 0u);
  EXPECT_EQ(evs[0].cookie, evs[1].cookie);
  EXPECT_EQ(evs[2].wd, fwd);
  EXPECT_EQ(evs[2].mask, IN_MOVE_SELF);
  unlink(to.c_str());
}

TEST(InotifyTest, WatchDescriptorsAndFlags) {
  TempPath dir = TempPath::Dir();
  FileDescriptor in = NewInotify();
  int wd;
  ASSERT_THAT(wd = inotify_add_watch(in.get(), dir.c_str(), IN_CREATE), SyscallSucceeds());
  // The same inode again: the same descriptor, the mask replaced or added.
  EXPECT_THAT(inotify_add_watch(in.get(), dir.c_str(), IN_DELETE), SyscallSucceedsWithValue(wd));
  EXPECT_THAT(inotify_add_watch(in.get(), dir.c_str(), IN_CREATE | IN_MASK_ADD),
              SyscallSucceedsWithValue(wd));
  EXPECT_THAT(inotify_add_watch(in.get(), dir.c_str(), IN_CREATE | IN_MASK_CREATE),
              SyscallFailsWithErrno(EEXIST));
  TempPath f = TempPath::File("", dir.path());
  f = TempPath();  // removed
  std::vector<Ev> evs = Drain(in.get());
  ASSERT_EQ(evs.size(), 2u) << Describe(evs);
  EXPECT_EQ(evs[0].mask, IN_CREATE);
  EXPECT_EQ(evs[1].mask, IN_DELETE);

  ASSERT_THAT(inotify_rm_watch(in.get(), wd), SyscallSucceeds());
  evs = Drain(in.get());
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].mask, IN_IGNORED);
  EXPECT_THAT(inotify_rm_watch(in.get(), wd), SyscallFailsWithErrno(EINVAL));

  // IN_ONESHOT: one event, then the watch ends.
  int ow;
  ASSERT_THAT(ow = inotify_add_watch(in.get(), dir.c_str(), IN_CREATE | IN_ONESHOT),
              SyscallSucceeds());
  EXPECT_NE(ow, wd);
  TempPath a = TempPath::File("", dir.path());
  TempPath b = TempPath::File("", dir.path());
  evs = Drain(in.get());
  ASSERT_EQ(evs.size(), 2u) << Describe(evs);
  EXPECT_EQ(evs[0].mask, IN_CREATE);
  EXPECT_EQ(evs[1].mask, IN_IGNORED);
}

TEST(InotifyTest, ReadinessAndBlockingRead) {
  TempPath dir = TempPath::Dir();
  int fd;
  ASSERT_THAT(fd = inotify_init(), SyscallSucceeds());
  FileDescriptor in(fd);
  ASSERT_THAT(inotify_add_watch(fd, dir.c_str(), IN_CREATE), SyscallSucceeds());
  pollfd p = {fd, POLLIN, 0};
  EXPECT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(0));
  std::thread maker([&] {
    usleep(50000);
    close(open(dir.Child("late").c_str(), O_CREAT | O_WRONLY, 0644));
  });
  alignas(inotify_event) char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf));
  maker.join();
  ASSERT_GT(n, 0);
  auto* e = reinterpret_cast<inotify_event*>(buf);
  EXPECT_EQ(e->mask, IN_CREATE);
  EXPECT_STREQ(e->name, "late");
  EXPECT_EQ(e->len % 16, 0u);

  close(open(dir.Child("more").c_str(), O_CREAT | O_WRONLY, 0644));
  int avail = 0;
  ASSERT_THAT(ioctl(fd, FIONREAD, &avail), SyscallSucceeds());
  EXPECT_EQ(avail, static_cast<int>(sizeof(inotify_event) + 16));
  ASSERT_THAT(poll(&p, 1, 0), SyscallSucceedsWithValue(1));
  // Too small for the next event.
  EXPECT_THAT(read(fd, buf, sizeof(inotify_event)), SyscallFailsWithErrno(EINVAL));
  unlink(dir.Child("late").c_str());
  unlink(dir.Child("more").c_str());
}

TEST(InotifyTest, Errors) {
  EXPECT_THAT(inotify_init1(0x1234), SyscallFailsWithErrno(EINVAL));
  FileDescriptor in = NewInotify();
  TempPath file = TempPath::File("x");
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), IN_MODIFY | IN_ONLYDIR),
              SyscallFailsWithErrno(ENOTDIR));
  EXPECT_THAT(inotify_add_watch(in.get(), "/nonexistent/x", IN_MODIFY),
              SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(inotify_add_watch(in.get(), file.c_str(), IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE),
              SyscallFailsWithErrno(EINVAL));
  Pipe p = MakePipe();
  EXPECT_THAT(inotify_add_watch(p.read_end.get(), file.c_str(), IN_MODIFY),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(inotify_rm_watch(p.read_end.get(), 1), SyscallFailsWithErrno(EINVAL));
  char buf[64];
  EXPECT_THAT(read(in.get(), buf, sizeof(buf)), SyscallFailsWithErrno(EAGAIN));
  EXPECT_EQ(FdLink(in.get()), "anon_inode:inotify");
}

}  // namespace
}  // namespace systest
