// ICMPv4 (RFC 792) and ICMPv6 (RFC 4443), as far as sockets need them:
// port-unreachable errors for datagrams nobody receives, reported to the
// sender's connected UDP endpoint as ECONNREFUSED, and echo replies.
#ifndef NETSTACK_ICMP_H_
#define NETSTACK_ICMP_H_

#include "netstack/stack.h"

namespace netstack {

void IcmpInputLocked(Stack* s, const IpInfo& ip, View pkt);
// `transport` is the offending packet from its transport header on.
void SendPortUnreachableLocked(Stack* s, const IpInfo& ip, const View& transport);

}  // namespace netstack

#endif  // NETSTACK_ICMP_H_
