// The event loop and the request dispatcher.
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "gofer/server_internal.h"
#include "sentry/base/error.h"
#include "sentry/base/log.h"

namespace gofer {

absl::Status Serve(int sock_fd, int root_fd, const ServerOptions& opts) {
  return ServeMounts({sock_fd}, {ServedMount{root_fd, opts.read_only}}, opts);
}

absl::Status ServeMounts(const std::vector<int>& sock_fds, const std::vector<ServedMount>& mounts,
                         const ServerOptions& opts) {
  if (sock_fds.empty() || mounts.empty()) return absl::InvalidArgumentError("nothing to serve");
  for (const ServedMount& m : mounts) {
    struct stat st;
    if (fstat(m.root_fd, &st) < 0) return sentry::ErrnoToStatus(errno, "gofer: mount root");
    if (!S_ISDIR(st.st_mode)) return absl::InvalidArgumentError("gofer: mount root not a directory");
  }
  Server s(mounts, opts);
  return s.Run(sock_fds);
}

absl::Status Server::Run(const std::vector<int>& socks) {
  // Index i of `pfds` is channel i; `owned` holds the fds we must close
  // (NewChannel ones), the initial sockets belong to the caller.
  std::vector<struct pollfd> pfds;
  std::vector<UniqueFd> owned;
  for (int s : socks) {
    pfds.push_back({s, POLLIN, 0});
    owned.emplace_back();
  }
  channel_count_ = static_cast<int>(pfds.size());
  std::string buf;
  while (!pfds.empty()) {
    int n = ppoll(pfds.data(), pfds.size(), nullptr, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sentry::ErrnoToStatus(errno, "gofer: ppoll");
    }
    std::vector<bool> drop(pfds.size(), false);
    for (size_t i = 0; i < pfds.size(); i++) {
      if (pfds[i].revents == 0) continue;
      if (!(pfds[i].revents & POLLIN)) {  // POLLHUP / POLLERR / POLLNVAL
        drop[i] = true;
        continue;
      }
      std::vector<UniqueFd> in_fds;  // a request never carries fds: closed unread
      int e = RecvDatagram(pfds[i].fd, &buf, &in_fds);
      if (e == EAGAIN) continue;
      pb::Request req;
      pb::Response resp;
      Fds out_fds;
      if (e == EMSGSIZE || (e == 0 && !req.ParseFromString(buf))) {
        resp.set_error(EINVAL);  // id 0: we cannot tell whose it was
      } else if (e != 0) {
        drop[i] = true;
        continue;
      } else {
        Handle(req, &resp, &out_fds);
        if (req.no_reply() && req.op_case() == pb::Request::kClunk) continue;
      }
      std::vector<int> raw;
      for (auto& f : out_fds) raw.push_back(f.get());
      resp.set_fd_count(static_cast<uint32_t>(raw.size()));
      // Non-blocking: a peer that sends without reading its answers loses
      // its channel instead of stalling every other one.
      if (SendMessage(pfds[i].fd, resp, raw.data(), raw.size(), /*nonblocking=*/true) != 0) {
        drop[i] = true;
      }
    }
    for (size_t i = pfds.size(); i-- > 0;) {
      if (!drop[i]) continue;
      // Hang up visibly, also on sockets the caller owns, so a peer that
      // lost its channel gets EPIPE rather than waiting forever.
      shutdown(pfds[i].fd, SHUT_RDWR);
      pfds.erase(pfds.begin() + static_cast<ptrdiff_t>(i));
      owned.erase(owned.begin() + static_cast<ptrdiff_t>(i));
      channel_count_--;
    }
    for (auto& c : new_channels_) {
      pfds.push_back({c.get(), POLLIN, 0});
      owned.push_back(std::move(c));
      channel_count_++;
    }
    new_channels_.clear();
  }
  return absl::OkStatus();
}

void Server::Handle(const pb::Request& req, pb::Response* resp, Fds* fds) {
  resp->set_id(req.id());
  int e = EINVAL;
  switch (req.op_case()) {
    case pb::Request::kAttach: e = Attach(req.attach(), resp); break;
    case pb::Request::kNewChannel: e = NewChannel(resp, fds); break;
    case pb::Request::kClunk: e = Clunk(req.clunk(), resp); break;
    case pb::Request::kWalk: e = Walk(req.walk(), resp); break;
    case pb::Request::kStat: e = Stat(req.stat(), resp); break;
    case pb::Request::kStatfs: e = StatFS(req.statfs(), resp); break;
    case pb::Request::kOpen: e = Open(req.open(), resp, fds); break;
    case pb::Request::kReaddir: e = ReadDir(req.readdir(), resp); break;
    case pb::Request::kReadlink: e = ReadLink(req.readlink(), resp); break;
    case pb::Request::kCreate: e = Create(req.create(), resp, fds); break;
    case pb::Request::kMkdir: e = Mkdir(req.mkdir(), resp); break;
    case pb::Request::kSymlink: e = Symlink(req.symlink(), resp); break;
    case pb::Request::kMknod: e = Mknod(req.mknod(), resp); break;
    case pb::Request::kLink: e = Link(req.link(), resp); break;
    case pb::Request::kUnlink: e = Unlink(req.unlink(), resp); break;
    case pb::Request::kRename: e = Rename(req.rename(), resp); break;
    case pb::Request::kSetattr: e = SetAttr(req.setattr(), resp); break;
    case pb::Request::kGetxattr: e = GetXattr(req.getxattr(), resp); break;
    case pb::Request::kSetxattr: e = SetXattr(req.setxattr(), resp); break;
    case pb::Request::kListxattr: e = ListXattr(req.listxattr(), resp); break;
    case pb::Request::kRemovexattr: e = RemoveXattr(req.removexattr(), resp); break;
    case pb::Request::OP_NOT_SET: e = EINVAL; break;
  }
  if (e != 0) {
    // A failed request returns no result and no fds.
    resp->Clear();
    resp->set_id(req.id());
    resp->set_error(e);
    fds->clear();
  }
  SLOG(kDebug, "gofer: request %d op %d -> errno %d", req.id(), static_cast<int>(req.op_case()), e);
}

int Server::NewChannel(pb::Response* resp, Fds* fds) {
  if (channel_count_ + static_cast<int>(new_channels_.size()) >= opts_.max_channels) return EMFILE;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return errno;
  new_channels_.emplace_back(sv[0]);
  fds->emplace_back(sv[1]);
  resp->mutable_new_channel();
  return 0;
}

int Server::Clunk(const pb::ClunkRequest& r, pb::Response* resp) {
  for (uint64_t fid : r.fids()) fids_.erase(fid);
  resp->mutable_clunk();
  return 0;
}

}  // namespace gofer
