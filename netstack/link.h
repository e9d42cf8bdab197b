// Link endpoints: where IP packets leave the stack and come back in.
//
// The stack calls WritePacket with its lock held (netstack/stack.h), so a
// link must not call back into the stack from WritePacket except through
// the InboundQueue it was attached to, which only appends. A link that
// receives packets on its own thread calls Stack::InjectInbound instead.
#ifndef NETSTACK_LINK_H_
#define NETSTACK_LINK_H_

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "netstack/buffer.h"

namespace netstack {

// Packets waiting to be processed by the stack. Appending needs the
// stack's lock (the caller of WritePacket holds it).
class InboundQueue {
 public:
  virtual ~InboundQueue() = default;
  virtual void QueueInboundLocked(View pkt) = 0;
};

class LinkEndpoint {
 public:
  virtual ~LinkEndpoint() = default;
  virtual uint32_t Mtu() const = 0;
  virtual void Attach(InboundQueue* q) = 0;
  // Called with the stack lock held.
  virtual void WritePacket(View pkt) = 0;
};

// Every packet written comes straight back in. Linux's lo has a 64 KiB
// MTU; so does this one, so that TCP segments are large on loopback.
class LoopbackLink : public LinkEndpoint {
 public:
  uint32_t Mtu() const override { return 65536; }
  void Attach(InboundQueue* q) override { q_ = q; }
  void WritePacket(View pkt) override {
    if (q_ != nullptr) q_->QueueInboundLocked(std::move(pkt));
  }

 private:
  InboundQueue* q_ = nullptr;
};

// A loopback link that misbehaves on purpose, deterministically (seeded):
// drops, duplicates and reorders packets, and keeps a copy of each packet
// written for tests to inspect. All of it runs under the stack lock.
class TestLink : public LinkEndpoint {
 public:
  struct Faults {
    double drop = 0;       // probability a packet is lost
    double duplicate = 0;  // probability it is delivered twice
    double reorder = 0;    // probability it is held back behind the next one
  };
  explicit TestLink(uint32_t mtu = 1500, uint64_t seed = 1) : mtu_(mtu), rng_(seed) {}

  void set_faults(Faults f) { faults_ = f; }
  void set_capture(bool on) { capture_ = on; }
  std::vector<View>& captured() { return captured_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t duplicated() const { return duplicated_; }
  uint64_t reordered() const { return reordered_; }

  uint32_t Mtu() const override { return mtu_; }
  void Attach(InboundQueue* q) override { q_ = q; }
  void WritePacket(View pkt) override;

 private:
  bool Roll(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  uint32_t mtu_;
  std::mt19937_64 rng_;
  Faults faults_;
  bool capture_ = false;
  std::vector<View> captured_;
  std::deque<View> held_;
  InboundQueue* q_ = nullptr;
  uint64_t dropped_ = 0, duplicated_ = 0, reordered_ = 0;
};

}  // namespace netstack

#endif  // NETSTACK_LINK_H_
