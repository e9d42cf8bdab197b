#include "netstack/stack.h"

#include <netinet/in.h>

#include "netstack/icmp.h"
#include "netstack/tcp.h"
#include "netstack/udp.h"

namespace netstack {
namespace {

uint32_t PortKey(uint8_t proto, uint16_t port) { return uint32_t(proto) << 16 | port; }

// Whether wildcard-bound `w` receives for address x.
bool Covers(const Endpoint* w, const Address& wa, bool w_v6only, const Address& x) {
  if (!wa.is_any()) return false;
  if (wa.is_v4()) return x.is_v4();
  return !x.is_v4() || !w_v6only;
}

}  // namespace

void Endpoint::SetNotify(std::function<void()> fn) {
  Stack::Guard g(stack_);
  notify_ = std::move(fn);
}

Stack::Stack(Clock* clock, uint64_t seed, StackOptions opts)
    : rng_(seed), clock_(clock), opts_(opts) {}

Stack::~Stack() {
  // Connections the stack still owns (TIME_WAIT...) go first, while the
  // tables their destructors update are still there.
  absl::flat_hash_map<TcpEndpoint*, std::shared_ptr<TcpEndpoint>> orphans;
  {
    absl::MutexLock l(&mu_);
    orphans.swap(orphans_);
  }
  orphans.clear();
}

void Stack::AddNic(LinkEndpoint* link, std::vector<Subnet> subnets) {
  absl::MutexLock l(&mu_);
  link->Attach(this);
  nics_.push_back(Nic{link, std::move(subnets)});
}

Stack::Guard::Guard(Stack* s) : s_(s) { s_->mu_.Lock(); }

Stack::Guard::~Guard() {
  Stack* s = s_;
  s->ProcessInboundLocked();
  std::vector<std::function<void()>> calls;
  for (Endpoint* e : s->notify_) {
    e->notify_queued_ = false;
    if (e->notify_) calls.push_back(e->notify_);
  }
  s->notify_.clear();
  std::vector<std::shared_ptr<Endpoint>> dead = std::move(s->graveyard_);
  s->graveyard_.clear();
  std::function<void()> wake;
  if (s->wake_) {
    s->wake_ = false;
    wake = s->wakeup_;
  }
  s->mu_.Unlock();
  for (auto& f : calls) f();
  if (wake) wake();
  dead.clear();  // endpoint destructors run without mu_
}

void Stack::QueueInboundLocked(View pkt) { inbound_.push_back(std::move(pkt)); }

void Stack::QueueNotifyLocked(Endpoint* ep) {
  if (ep->notify_queued_) return;
  ep->notify_queued_ = true;
  notify_.push_back(ep);
}

void Stack::ReleaseLocked(std::shared_ptr<Endpoint> ep) {
  FreePortLocked(ep.get());
  graveyard_.push_back(std::move(ep));
}

void Stack::AdoptLocked(std::shared_ptr<TcpEndpoint> ep) {
  TcpEndpoint* raw = ep.get();
  orphans_[raw] = std::move(ep);
}

void Stack::DisownLocked(TcpEndpoint* ep) {
  auto it = orphans_.find(ep);
  if (it == orphans_.end()) return;
  graveyard_.push_back(std::move(it->second));
  orphans_.erase(it);
}

void Stack::TimerArmedLocked(int64_t when) {
  if (when < reported_deadline_) {
    reported_deadline_ = when;
    wake_ = true;
  }
}

void Stack::SetTimerWakeup(std::function<void()> fn) {
  absl::MutexLock l(&mu_);
  wakeup_ = std::move(fn);
}

void Stack::InjectInbound(View pkt) {
  Guard g(this);
  QueueInboundLocked(std::move(pkt));
}

void Stack::RunTimers() {
  std::vector<std::shared_ptr<Endpoint>> due;  // outlives the guard
  Guard g(this);
  int64_t now = clock_->NowNs();
  for (TcpEndpoint* e : tcp_all_) {
    if (e->NextDeadlineLocked() > now) continue;
    // An endpoint whose last reference is going waits for mu_ in its
    // destructor: it has no timers worth running.
    if (auto sp = e->weak_from_this().lock()) due.push_back(std::move(sp));
  }
  for (auto& e : due) static_cast<TcpEndpoint*>(e.get())->OnTimersLocked(now);
  reported_deadline_ = 0;  // force the next NextTimerNs to be reported
}

int64_t Stack::NextTimerNs() {
  absl::MutexLock l(&mu_);
  int64_t next = INT64_MAX;
  for (TcpEndpoint* e : tcp_all_) next = std::min(next, e->NextDeadlineLocked());
  reported_deadline_ = next;
  return next;
}

StackStats Stack::Stats() {
  absl::MutexLock l(&mu_);
  return stats_;
}

std::shared_ptr<TcpEndpoint> Stack::NewTcp(bool v6) { return std::make_shared<TcpEndpoint>(this, v6); }
std::shared_ptr<UdpEndpoint> Stack::NewUdp(bool v6) { return std::make_shared<UdpEndpoint>(this, v6); }

// ---- ports ----

const std::vector<Endpoint*>* Stack::PortUsersLocked(uint8_t proto, uint16_t port) {
  auto it = ports_.find(PortKey(proto, port));
  return it == ports_.end() ? nullptr : &it->second;
}

bool Stack::PortConflictLocked(const Endpoint* ep) {
  const auto* users = PortUsersLocked(ep->protocol(), ep->local_.port);
  if (users == nullptr) return false;
  for (const Endpoint* o : *users) {
    if (o == ep) continue;
    const Address& a = ep->local_.addr;
    const Address& b = o->local_.addr;
    bool overlap = a == b || Covers(ep, a, ep->v6only_, b) || Covers(o, b, o->v6only_, a);
    if (!overlap) continue;
    if (ep->reuse_port_ && o->reuse_port_) continue;
    if (o->AllowsShare(*ep)) continue;
    return true;
  }
  return false;
}

int Stack::ReservePortLocked(Endpoint* ep, FullAddress want, const ShareFn& shareable) {
  uint8_t proto = ep->protocol();
  if (want.port == 0) {
    uint32_t span = uint32_t(opts_.ephemeral_hi) - opts_.ephemeral_lo + 1;
    uint32_t start = uint32_t(rng_() % span);
    for (int pass = 0; pass < (shareable ? 2 : 1); pass++) {
      for (uint32_t i = 0; i < span; i++) {
        uint16_t port = uint16_t(opts_.ephemeral_lo + (start + i) % span);
        auto it = ports_.find(PortKey(proto, port));
        if (it != ports_.end() && (pass == 0 || !shareable(it->second))) continue;
        ep->local_ = FullAddress{want.addr, port};
        ports_[PortKey(proto, port)].push_back(ep);
        ep->bound_ = true;
        return 0;
      }
    }
    return EADDRINUSE;
  }
  FullAddress old = ep->local_;
  ep->local_ = want;
  if (PortConflictLocked(ep)) {
    ep->local_ = old;
    return EADDRINUSE;
  }
  ports_[PortKey(proto, want.port)].push_back(ep);
  ep->bound_ = true;
  return 0;
}

void Stack::InheritPortLocked(Endpoint* child) {
  ports_[PortKey(child->protocol(), child->local_.port)].push_back(child);
  child->bound_ = true;
}

void Stack::FreePortLocked(Endpoint* ep) {
  if (!ep->bound_) return;
  ep->bound_ = false;
  auto it = ports_.find(PortKey(ep->protocol(), ep->local_.port));
  if (it == ports_.end()) return;
  std::erase(it->second, ep);
  if (it->second.empty()) ports_.erase(it);
}

// ---- addresses and routes ----

bool Stack::IsLocalLocked(const Address& a) {
  for (const Nic& n : nics_) {
    for (const Subnet& s : n.subnets) {
      // All of 127/8 is local, as on Linux's lo; elsewhere only the
      // interface's own address.
      bool loop = s.addr.is_v4() ? (s.addr.v4() >> 24) == 127 : s.addr == Address::V6Loopback();
      if (loop ? a.InSubnet(s.addr, s.prefix) : a == s.addr) return true;
    }
  }
  return false;
}

const Stack::Nic* Stack::NicForLocked(const Address& dst) {
  for (const Nic& n : nics_) {
    for (const Subnet& s : n.subnets) {
      if (dst.InSubnet(s.addr, s.prefix)) return &n;
    }
  }
  return nullptr;
}

bool Stack::RouteLocked(const Address& dst, Address* src, uint32_t* mtu) {
  for (const Nic& n : nics_) {
    for (const Subnet& s : n.subnets) {
      if (!dst.InSubnet(s.addr, s.prefix)) continue;
      if (src) *src = s.addr;
      if (mtu) *mtu = n.link->Mtu();
      return true;
    }
  }
  return false;
}

int Stack::SendIpLocked(PacketBuilder&& b, const IpInfo& info) {
  const Nic* nic = NicForLocked(info.dst);
  if (nic == nullptr) {
    stats_.ip_no_route++;
    return ENETUNREACH;
  }
  PrependIpHeader(&b, info, ip_id_++);
  stats_.ip_sent++;
  nic->link->WritePacket(std::move(b).Finish());
  return 0;
}

// ---- input ----

void Stack::ProcessInboundLocked() {
  if (processing_) return;  // the outer loop gets to the new packets
  processing_ = true;
  while (!inbound_.empty()) {
    View p = std::move(inbound_.front());
    inbound_.pop_front();
    DeliverLocked(std::move(p));
  }
  processing_ = false;
}

void Stack::DeliverLocked(View pkt) {
  stats_.ip_received++;
  IpInfo info;
  switch (ParseIp(&pkt, &info)) {
    case IpParse::kOk:
      break;
    case IpParse::kMalformed:
      stats_.ip_malformed++;
      return;
    case IpParse::kBadChecksum:
      stats_.ip_bad_checksum++;
      return;
    case IpParse::kUnsupported:
      stats_.ip_unsupported++;
      return;
  }
  if (!IsLocalLocked(info.dst)) {
    stats_.ip_not_local++;
    return;
  }
  switch (info.proto) {
    case IPPROTO_TCP:
      TcpInputLocked(this, info, std::move(pkt));
      break;
    case IPPROTO_UDP:
      UdpInputLocked(this, info, std::move(pkt));
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      IcmpInputLocked(this, info, std::move(pkt));
      break;
    default:
      stats_.ip_unknown_protocol++;
      break;
  }
}

}  // namespace netstack
