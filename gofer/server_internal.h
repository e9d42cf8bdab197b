// Inside the Gofer server (see server.h for what it promises).
//
// Fids name Nodes. A Node is one file the client walked to, with an
// O_PATH|O_NOFOLLOW fd and its place in the tree of walked paths (parent
// node + name). The tree exists because reopening a non-directory for I/O
// must go through its parent with O_NOFOLLOW: the O_PATH fd alone cannot
// be reopened without /proc, which the Gofer does not have. Walks reuse
// the live node for a (parent, name), so each path has at most one node
// and rename/unlink keep the tree exact by updating that one node.
//
// Single-threaded: everything here is touched only by the event loop.
#ifndef GOFER_SERVER_INTERNAL_H_
#define GOFER_SERVER_INTERNAL_H_

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gofer/gofer.pb.h"
#include "gofer/server.h"
#include "gofer/wire.h"

namespace gofer {

struct Node {
  ~Node();
  UniqueFd fd;  // O_PATH | O_NOFOLLOW
  // Identity at walk time: a reopen must land on the same file.
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t type = 0;  // S_IFMT bits
  uint32_t mount = 0;
  std::shared_ptr<Node> parent;  // null for a mount root or a removed file
  std::string name;              // name in parent
  absl::flat_hash_map<std::string, std::weak_ptr<Node>> children;
};

// Every handler returns an errno (0: success) and fills its part of the
// response; the fds it adds are sent with the response and then closed.
using Fds = std::vector<UniqueFd>;

class Server {
 public:
  Server(std::vector<ServedMount> mounts, const ServerOptions& opts)
      : mounts_(std::move(mounts)), opts_(opts), roots_(mounts_.size()) {}
  absl::Status Run(const std::vector<int>& socks);

  // Handles one decoded request. Public for tests of the dispatcher.
  void Handle(const pb::Request& req, pb::Response* resp, Fds* fds);

 private:
  // --- fids and nodes (server_nodes.cc) ---
  std::shared_ptr<Node> Find(uint64_t fid) const;
  uint64_t AddFid(std::shared_ptr<Node> n);
  bool ReadOnly(const Node& n) const;
  // Opens `name` under `dir` as a node (reusing the live one if the name
  // still leads to it) and stats it.
  int WalkOne(const std::shared_ptr<Node>& dir, const std::string& name,
              std::shared_ptr<Node>* out, struct stat* st);
  // A new I/O fd for `n` with open(2) `flags` (access mode only; O_TRUNC
  // is applied after the identity check).
  int Reopen(const Node& n, int flags, UniqueFd* out);
  int StatNode(const Node& n, pb::Attr* out);
  int Chmod(const Node& n, uint32_t mode);
  int Chown(const Node& n, uint32_t uid, uint32_t gid);
  // After a create: sets owner and exact mode (the process umask may have
  // cleared bits) and fills the new fid.
  int FinishNew(const std::shared_ptr<Node>& dir, const std::string& name, uint32_t uid,
                uint32_t gid, int mode, pb::NewFileResponse* out);
  // After unlink/rename: the tree loses or moves a name.
  void DetachChild(Node& dir, const std::string& name);

  // --- handlers (server_read_ops.cc, server_write_ops.cc) ---
  int Attach(const pb::AttachRequest& r, pb::Response* resp);
  int Walk(const pb::WalkRequest& r, pb::Response* resp);
  int Stat(const pb::StatRequest& r, pb::Response* resp);
  int StatFS(const pb::StatFSRequest& r, pb::Response* resp);
  int Open(const pb::OpenRequest& r, pb::Response* resp, Fds* fds);
  int ReadDir(const pb::ReadDirRequest& r, pb::Response* resp);
  int ReadLink(const pb::ReadLinkRequest& r, pb::Response* resp);
  int Clunk(const pb::ClunkRequest& r, pb::Response* resp);
  int NewChannel(pb::Response* resp, Fds* fds);
  int Create(const pb::CreateRequest& r, pb::Response* resp, Fds* fds);
  int Mkdir(const pb::MkdirRequest& r, pb::Response* resp);
  int Symlink(const pb::SymlinkRequest& r, pb::Response* resp);
  int Mknod(const pb::MknodRequest& r, pb::Response* resp);
  int Link(const pb::LinkRequest& r, pb::Response* resp);
  int Unlink(const pb::UnlinkRequest& r, pb::Response* resp);
  int Rename(const pb::RenameRequest& r, pb::Response* resp);
  int SetAttr(const pb::SetAttrRequest& r, pb::Response* resp);
  int GetXattr(const pb::GetXattrRequest& r, pb::Response* resp);
  int SetXattr(const pb::SetXattrRequest& r, pb::Response* resp);
  int ListXattr(const pb::ListXattrRequest& r, pb::Response* resp);
  int RemoveXattr(const pb::RemoveXattrRequest& r, pb::Response* resp);

  // Looks up a directory fid that a mutation will change: EBADF, ENOTDIR,
  // EROFS, and EINVAL for a bad `name`.
  int MutableDir(uint64_t fid, const std::string& name, std::shared_ptr<Node>* out);

  const std::vector<ServedMount> mounts_;
  const ServerOptions opts_;
  std::vector<std::shared_ptr<Node>> roots_;  // per mount, made on first attach
  absl::flat_hash_map<uint64_t, std::shared_ptr<Node>> fids_;
  uint64_t next_fid_ = 1;
  // Sockets made by NewChannel, to be added to the loop.
  std::vector<UniqueFd> new_channels_;
  int channel_count_ = 0;
};

// 0 for a valid single component; EINVAL or ENAMETOOLONG otherwise.
int CheckName(const std::string& name);
void FillAttr(const struct stat& st, pb::Attr* out);
// Only "user." extended attributes cross the boundary.
bool IsUserXattr(const std::string& name);

}  // namespace gofer

#endif  // GOFER_SERVER_INTERNAL_H_
