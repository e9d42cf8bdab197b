// The Gofer server spoken to directly, as a hostile Sentry would: bad
// names, bad fids, garbage datagrams, symlinks and files swapped between
// requests. Nothing may crash it or lead it outside its root.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>

#include <set>

#include "gofer_test_util.h"

namespace gofer_test {
namespace {

using gofer::UniqueFd;
namespace pb = gofer::pb;

class GoferServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(/*read_only=*/true); }
  void StartServer(bool read_only) {
    gofer_.reset();
    gofer_ = std::make_unique<InProcessGofer>(tree_.path(), read_only);
    root_ = Attach();
  }
  uint64_t Attach() {
    pb::Request req;
    req.mutable_attach();
    pb::Response resp;
    EXPECT_EQ(RawCall(fd(), req, &resp), 0);
    return resp.attach().root().fid();
  }
  int fd() const { return gofer_->fd(); }

  // Walks `names` from `dir`; returns the response's errno.
  int Walk(uint64_t dir, std::vector<std::string> names, pb::WalkResponse* out) {
    pb::Request req;
    req.mutable_walk()->set_dir_fid(dir);
    for (auto& n : names) req.mutable_walk()->add_names(n);
    pb::Response resp;
    int e = RawCall(fd(), req, &resp);
    *out = resp.walk();
    return e;
  }
  uint64_t WalkFid(uint64_t dir, std::vector<std::string> names) {
    pb::WalkResponse w;
    EXPECT_EQ(Walk(dir, names, &w), 0);
    EXPECT_EQ(w.files_size(), static_cast<int>(names.size()));
    return w.files_size() ? w.files(w.files_size() - 1).fid() : 0;
  }
  int Open(uint64_t fid, uint32_t flags, UniqueFd* out = nullptr) {
    pb::Request req;
    req.mutable_open()->set_fid(fid);
    req.mutable_open()->set_flags(flags);
    pb::Response resp;
    std::vector<UniqueFd> fds;
    int e = RawCall(fd(), req, &resp, &fds);
    if (e == 0 && out) *out = std::move(fds.at(0));
    return e;
  }

  TempTree tree_;
  std::unique_ptr<InProcessGofer> gofer_;
  uint64_t root_ = 0;
};

TEST_F(GoferServerTest, WalksSeveralComponentsInOneRoundTrip) {
  pb::WalkResponse w;
  ASSERT_EQ(Walk(root_, {"dir", "sub", "nested.txt"}, &w), 0);
  ASSERT_EQ(w.files_size(), 3);
  EXPECT_TRUE(S_ISDIR(w.files(0).attr().mode()));
  EXPECT_TRUE(S_ISDIR(w.files(1).attr().mode()));
  EXPECT_EQ(w.files(1).attr().mode() & 07777, 0750u);
  EXPECT_TRUE(S_ISREG(w.files(2).attr().mode()));
  EXPECT_EQ(w.files(2).attr().size(), 7u);
  struct stat st;
  ASSERT_EQ(stat(tree_.P("dir/sub/nested.txt").c_str(), &st), 0);
  EXPECT_EQ(w.files(2).attr().ino(), st.st_ino);
  EXPECT_EQ(w.stop_errno(), 0);
}

TEST_F(GoferServerTest, WalkStopsAtFirstMissingComponentAndSaysWhich) {
  pb::WalkResponse w;
  ASSERT_EQ(Walk(root_, {"dir", "nope", "x"}, &w), 0);
  EXPECT_EQ(w.files_size(), 1);  // names[1] is the one missing
  EXPECT_EQ(w.stop_errno(), ENOENT);
}

TEST_F(GoferServerTest, WalkStopsAtSymlinkWithoutFollowingIt) {
  pb::WalkResponse w;
  ASSERT_EQ(Walk(root_, {"dirlink", "sub"}, &w), 0);
  ASSERT_EQ(w.files_size(), 1);
  EXPECT_TRUE(S_ISLNK(w.files(0).attr().mode()));
  EXPECT_EQ(w.stop_errno(), ENOTDIR);
}

TEST_F(GoferServerTest, RefusesNamesThatAreNotOneComponent) {
  std::vector<std::string> bads = {"..", ".", "", "dir/sub", "/", "dir/", std::string("a\0b", 3)};
  for (const std::string& bad : bads) {
    pb::WalkResponse w;
    EXPECT_EQ(Walk(root_, {bad}, &w), EINVAL) << "name: " << bad;
    EXPECT_EQ(w.files_size(), 0);
  }
  pb::WalkResponse w;
  EXPECT_EQ(Walk(root_, {std::string(300, 'x')}, &w), ENAMETOOLONG);
  // A bad name anywhere fails the whole walk before anything is opened.
  EXPECT_EQ(Walk(root_, {"dir", ".."}, &w), EINVAL);
}

TEST_F(GoferServerTest, BadFidsAreEBADF) {
  pb::WalkResponse w;
  EXPECT_EQ(Walk(987654, {"dir"}, &w), EBADF);
  EXPECT_EQ(Open(0, O_RDONLY), EBADF);
  pb::Request req;
  req.mutable_stat()->set_fid(~0ull);
  pb::Response resp;
  EXPECT_EQ(RawCall(fd(), req, &resp), EBADF);
  // A clunked fid is gone; fids are never reused.
  uint64_t f = WalkFid(root_, {"file.txt"});
  req.Clear();
  req.mutable_clunk()->add_fids(f);
  req.mutable_clunk()->add_fids(123456789);  // unknown: ignored
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  EXPECT_EQ(Open(f, O_RDONLY), EBADF);
  EXPECT_NE(WalkFid(root_, {"file.txt"}), f);
}

TEST_F(GoferServerTest, GarbageGetsEinvalAndTheServerKeepsServing) {
  // Random bytes.
  std::string junk = "\xff\xfe\x01\x02garbage\x00\x10\x80\x80\x80\x80\x80\x80";
  ASSERT_EQ(send(fd(), junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
  std::string buf;
  std::vector<UniqueFd> fds;
  ASSERT_EQ(gofer::RecvDatagram(fd(), &buf, &fds), 0);
  pb::Response r;
  ASSERT_TRUE(r.ParseFromString(buf));
  EXPECT_EQ(r.id(), 0u);
  EXPECT_EQ(r.error(), EINVAL);
  // A request with no operation.
  pb::Request empty;
  empty.set_id(77);
  pb::Response resp;
  EXPECT_EQ(RawCall(fd(), empty, &resp), EINVAL);
  EXPECT_EQ(resp.id(), 77u);
  // A datagram over the size limit.
  std::string huge(gofer::kMaxMessageSize + 100, 'x');
  int sz = 1 << 20;
  setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
  if (send(fd(), huge.data(), huge.size(), 0) == static_cast<ssize_t>(huge.size())) {
    ASSERT_EQ(gofer::RecvDatagram(fd(), &buf, &fds), 0);
    ASSERT_TRUE(r.ParseFromString(buf));
    EXPECT_EQ(r.error(), EINVAL);
  }
  // A request carrying fds (the server must close them, not use them).
  {
    pb::Request req;
    req.set_id(5);
    req.mutable_stat()->set_fid(root_);
    int pass[2] = {0, 1};
    ASSERT_EQ(gofer::SendMessage(fd(), req, pass, 2), 0);
    ASSERT_EQ(gofer::RecvDatagram(fd(), &buf, &fds), 0);
    ASSERT_TRUE(r.ParseFromString(buf));
    EXPECT_EQ(r.id(), 5u);
  }
  // Still alive and sane.
  EXPECT_NE(WalkFid(root_, {"file.txt"}), 0u);
}

TEST_F(GoferServerTest, OpenOfSymlinkIsEloopAndEscapesAreJustText) {
  for (std::string name : {"escape", "abs", "link_rel"}) {
    uint64_t f = WalkFid(root_, {name});
    EXPECT_EQ(Open(f, O_RDONLY), ELOOP) << name;
    pb::Request req;
    req.mutable_readlink()->set_fid(f);
    pb::Response resp;
    ASSERT_EQ(RawCall(fd(), req, &resp), 0);
    char expect[256] = {};
    ASSERT_GT(readlink(tree_.P(name).c_str(), expect, sizeof(expect) - 1), 0);
    EXPECT_EQ(resp.readlink().target(), expect);
  }
  // Walking "etc" from the root finds nothing: the root is the tree.
  pb::WalkResponse w;
  ASSERT_EQ(Walk(root_, {"etc", "passwd"}, &w), 0);
  EXPECT_EQ(w.files_size(), 0);
  EXPECT_EQ(w.stop_errno(), ENOENT);
}

TEST_F(GoferServerTest, SymlinkSwappedInAfterWalkNeverLeadsOutside) {
  WriteFile(tree_.P("victim"), "inside\n");
  uint64_t f = WalkFid(root_, {"victim"});
  // On the host, the walked name now leads outside the root.
  ASSERT_EQ(symlink("/etc/passwd", tree_.P("swap").c_str()), 0);
  ASSERT_EQ(rename(tree_.P("swap").c_str(), tree_.P("victim").c_str()), 0);
  UniqueFd out;
  int e = Open(f, O_RDONLY, &out);
  EXPECT_TRUE(e == ELOOP || e == ESTALE) << e;
  // And a different regular file under the old name is not handed out
  // either: the fid names the file that was walked.
  ASSERT_EQ(unlink(tree_.P("victim").c_str()), 0);
  WriteFile(tree_.P("victim"), "other\n");
  EXPECT_EQ(Open(f, O_RDONLY), ESTALE);
}

TEST_F(GoferServerTest, OpenDonatesCloexecFdForReading) {
  uint64_t f = WalkFid(root_, {"file.txt"});
  UniqueFd h;
  ASSERT_EQ(Open(f, O_RDONLY, &h), 0);
  char buf[64] = {};
  EXPECT_EQ(pread(h.get(), buf, sizeof(buf), 0), 13);
  EXPECT_STREQ(buf, "hello, gofer\n");
  EXPECT_TRUE(fcntl(h.get(), F_GETFD) & FD_CLOEXEC);
  // Devices/sockets/fifos: only the fifo opens (non-blocking).
  uint64_t ff = WalkFid(root_, {"fifo"});
  UniqueFd fifo;
  EXPECT_EQ(Open(ff, O_RDONLY, &fifo), 0);
  EXPECT_TRUE(fcntl(fifo.get(), F_GETFL) & O_NONBLOCK);
}

TEST_F(GoferServerTest, ReadOnlyMountRefusesEveryMutation) {
  uint64_t f = WalkFid(root_, {"file.txt"});
  EXPECT_EQ(Open(f, O_RDWR), EROFS);
  EXPECT_EQ(Open(f, O_WRONLY), EROFS);
  EXPECT_EQ(Open(f, O_RDONLY | O_TRUNC), EROFS);
  pb::Response resp;
  pb::Request req;
  req.mutable_create()->set_dir_fid(root_);
  req.mutable_create()->set_name("new");
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  req.Clear();
  req.mutable_mkdir()->set_dir_fid(root_);
  req.mutable_mkdir()->set_name("d");
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  req.Clear();
  req.mutable_unlink()->set_dir_fid(root_);
  req.mutable_unlink()->set_name("file.txt");
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  req.Clear();
  req.mutable_rename()->set_old_dir_fid(root_);
  req.mutable_rename()->set_old_name("file.txt");
  req.mutable_rename()->set_new_dir_fid(root_);
  req.mutable_rename()->set_new_name("x");
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  req.Clear();
  req.mutable_setattr()->set_fid(f);
  req.mutable_setattr()->set_mask(pb::SetAttrRequest::MODE);
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  req.Clear();
  req.mutable_setxattr()->set_fid(f);
  req.mutable_setxattr()->set_name("user.x");
  EXPECT_EQ(RawCall(fd(), req, &resp), EROFS);
  EXPECT_EQ(ReadHostFile(tree_.P("file.txt")), "hello, gofer\n");
}

TEST_F(GoferServerTest, ReadDirPaginatesWithCookies) {
  for (int i = 0; i < kManyEntries; i++) WriteFile(tree_.P("many/" + ManyName(i)), "");
  uint64_t many = WalkFid(root_, {"many"});
  std::set<std::string> names;
  uint64_t cookie = 0;
  int pages = 0;
  for (;;) {
    pb::Request req;
    req.mutable_readdir()->set_fid(many);
    req.mutable_readdir()->set_cookie(cookie);
    pb::Response resp;
    ASSERT_EQ(RawCall(fd(), req, &resp), 0);
    pages++;
    for (auto& e : resp.readdir().entries()) {
      EXPECT_TRUE(names.insert(e.name()).second) << "duplicate " << e.name();
      EXPECT_EQ(e.type(), DT_REG);
      cookie = e.next_cookie();
    }
    if (resp.readdir().eof()) break;
    ASSERT_LT(pages, 100);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kManyEntries));
  EXPECT_GE(pages, 2);  // the long names do not fit one page
}

TEST_F(GoferServerTest, NewChannelSharesFids) {
  pb::Request req;
  req.mutable_new_channel();
  pb::Response resp;
  std::vector<UniqueFd> fds;
  ASSERT_EQ(RawCall(fd(), req, &resp, &fds), 0);
  ASSERT_EQ(fds.size(), 1u);
  pb::Request st;
  st.mutable_stat()->set_fid(root_);
  ASSERT_EQ(RawCall(fds[0].get(), st, &resp), 0);
  EXPECT_TRUE(S_ISDIR(resp.stat().attr().mode()));
}

TEST_F(GoferServerTest, PeerThatNeverReadsLosesOnlyItsChannel) {
  pb::Request req;
  req.mutable_new_channel();
  pb::Response resp;
  std::vector<UniqueFd> fds;
  ASSERT_EQ(RawCall(fd(), req, &resp, &fds), 0);
  // Flood the first channel with requests and never read the answers.
  pb::Request st;
  st.mutable_stat()->set_fid(root_);
  std::string wire;
  bool dropped = false;
  for (int i = 0; i < 100000 && !dropped; i++) {
    st.set_id(static_cast<uint64_t>(i) + 1);
    wire.clear();
    st.SerializeToString(&wire);
    if (send(fd(), wire.data(), wire.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
      if (errno == EAGAIN) {
        usleep(100);
        continue;
      }
      dropped = true;  // EPIPE / ECONNRESET: the server hung up on us
    }
  }
  EXPECT_TRUE(dropped);
  // The other channel is still served.
  pb::Request st2;
  st2.mutable_stat()->set_fid(root_);
  EXPECT_EQ(RawCall(fds[0].get(), st2, &resp), 0);
}

TEST_F(GoferServerTest, UnknownMountIsEnoent) {
  pb::Request req;
  req.mutable_attach()->set_mount(7);
  pb::Response resp;
  EXPECT_EQ(RawCall(fd(), req, &resp), ENOENT);
}

TEST_F(GoferServerTest, RenameKeepsWalkedFidsValidAndUnlinkMakesThemStale) {
  StartServer(/*read_only=*/false);
  uint64_t nested = WalkFid(root_, {"dir", "sub", "nested.txt"});
  pb::Request req;
  pb::RenameRequest* r = req.mutable_rename();
  r->set_old_dir_fid(root_);
  r->set_old_name("dir");
  r->set_new_dir_fid(root_);
  r->set_new_name("dir2");
  pb::Response resp;
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  // Rename of the file itself within its directory.
  uint64_t sub = WalkFid(root_, {"dir2", "sub"});
  req.Clear();
  r = req.mutable_rename();
  r->set_old_dir_fid(sub);
  r->set_old_name("nested.txt");
  r->set_new_dir_fid(root_);
  r->set_new_name("moved.txt");
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  UniqueFd h;
  ASSERT_EQ(Open(nested, O_RDONLY, &h), 0);  // reopened through its new parent and name
  char buf[16] = {};
  EXPECT_EQ(pread(h.get(), buf, sizeof(buf), 0), 7);
  req.Clear();
  req.mutable_unlink()->set_dir_fid(root_);
  req.mutable_unlink()->set_name("moved.txt");
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  EXPECT_EQ(Open(nested, O_RDONLY), ESTALE);
  req.Clear();
  req.mutable_stat()->set_fid(nested);  // stat still works on the O_PATH fd
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  EXPECT_EQ(resp.stat().attr().nlink(), 0u);
}

TEST_F(GoferServerTest, MknodRefusesDevices) {
  StartServer(/*read_only=*/false);
  pb::Request req;
  req.mutable_mknod()->set_dir_fid(root_);
  req.mutable_mknod()->set_name("null");
  req.mutable_mknod()->set_mode(S_IFCHR | 0666);
  pb::Response resp;
  EXPECT_EQ(RawCall(fd(), req, &resp), EPERM);
  req.mutable_mknod()->set_mode(S_IFIFO | 0600);
  req.mutable_mknod()->set_name("p");
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  EXPECT_TRUE(S_ISFIFO(resp.new_file().file().attr().mode()));
  EXPECT_EQ(resp.new_file().file().attr().mode() & 07777, 0600u);
}

TEST_F(GoferServerTest, XattrsAreUserNamespaceOnly) {
  StartServer(/*read_only=*/false);
  uint64_t f = WalkFid(root_, {"file.txt"});
  pb::Request req;
  pb::Response resp;
  req.mutable_setxattr()->set_fid(f);
  req.mutable_setxattr()->set_name("trusted.evil");
  req.mutable_setxattr()->set_value("x");
  EXPECT_EQ(RawCall(fd(), req, &resp), EOPNOTSUPP);
  req.mutable_setxattr()->set_name("user.color");
  req.mutable_setxattr()->set_value("blue");
  int e = RawCall(fd(), req, &resp);
  if (e == EOPNOTSUPP) GTEST_SKIP() << "/tmp does not support user xattrs";
  ASSERT_EQ(e, 0);
  req.Clear();
  req.mutable_getxattr()->set_fid(f);
  req.mutable_getxattr()->set_name("user.color");
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  EXPECT_EQ(resp.getxattr().value(), "blue");
  req.Clear();
  req.mutable_listxattr()->set_fid(f);
  ASSERT_EQ(RawCall(fd(), req, &resp), 0);
  ASSERT_EQ(resp.listxattr().names_size(), 1);
  EXPECT_EQ(resp.listxattr().names(0), "user.color");
}

}  // namespace
}  // namespace gofer_test
