"""The IANA special-purpose address registries, as data: the addresses a webhook target may never be.

Sources (each entry names the RFC the registry cites for it):
- IANA IPv4 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv4-special-registry/
- IANA IPv6 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv6-special-registry/
- IANA IPv4 Multicast Address Space Registry (224.0.0.0/4, RFC 5771) and the IPv6 multicast prefix (ff00::/8,
  RFC 4291), which the special-purpose registries do not list;
- IANA Internet Protocol Version 6 Address Space, https://www.iana.org/assignments/ipv6-address-space/: only
  2000::/3 is Global Unicast; everything else (fec0::/10 site-local, deprecated by RFC 3879; ::ffff:0:0:0/96
  IPv4-translated, RFC 2765; the rest "Reserved by IETF") is not an address a receiver on the Internet has.

Every entry is refused, whatever its "globally reachable" column says: 192.0.0.9 (PCP anycast) or 64:ff9b::/96
(NAT64) are globally reachable, but no webhook receiver lives there, and a translation prefix would reach an
IPv4 address the IPv4 rules never judged. Python's `is_global` follows its own, older copy of these tables (it
took 192.0.0.192, ::ffff:0:a9fe:a9fe, fec0::/10 and 5f00::/16 for public), hence this file. When IANA adds an
entry, add it here with its RFC; tests/unit/test_webhook_rules.py checks a sample of each.
"""

from __future__ import annotations

import ipaddress

# (address block, name in the registry, RFC)
IPV4_SPECIAL: tuple[tuple[str, str, str], ...] = (
    ("0.0.0.0/8", "This network", "RFC 791"),
    ("0.0.0.0/32", "This host on this network", "RFC 1122"),
    ("10.0.0.0/8", "Private-Use", "RFC 1918"),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
    ("127.0.0.0/8", "Loopback", "RFC 1122"),
    ("169.254.0.0/16", "Link Local", "RFC 3927"),
    ("172.16.0.0/12", "Private-Use", "RFC 1918"),
    ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890"),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050"),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    ("192.52.193.0/24", "AMT", "RFC 7450"),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751"),
    ("192.168.0.0/16", "Private-Use", "RFC 1918"),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    ("240.0.0.0/4", "Reserved", "RFC 1112"),
    ("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919"),
    ("224.0.0.0/4", "Multicast (IPv4 Multicast Address Space Registry)", "RFC 5771"),
)

IPV6_SPECIAL: tuple[tuple[str, str, str], ...] = (
    ("::1/128", "Loopback Address", "RFC 4291"),
    ("::/128", "Unspecified Address", "RFC 4291"),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052"),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215"),
    ("100::/64", "Discard-Only Address Block", "RFC 6666"),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    ("2001::/32", "TEREDO", "RFC 4380, RFC 8190"),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    ("2001:2::/48", "Benchmarking", "RFC 5180"),
    ("2001:3::/32", "AMT", "RFC 7450"),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    ("2001:db8::/32", "Documentation", "RFC 3849"),
    ("2002::/16", "6to4", "RFC 3056"),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    ("3fff::/20", "Documentation", "RFC 9637"),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190"),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291"),
    ("ff00::/8", "Multicast", "RFC 4291"),
)

# IANA IPv6 Address Space: the one block allocated as Global Unicast.
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

_V4 = tuple((ipaddress.IPv4Network(block), name, rfc) for block, name, rfc in IPV4_SPECIAL)
_V6 = tuple((ipaddress.IPv6Network(block), name, rfc) for block, name, rfc in IPV6_SPECIAL)


def special_purpose(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` is not an Internet receiver's ("Private-Use (RFC 1918)"), or None for a public unicast one."""
    if isinstance(address, ipaddress.IPv4Address):
        for net, name, rfc in _V4:
            if address in net:
                return f"{name} ({rfc})"
        return None
    for net6, name, rfc in _V6:
        if address in net6:
            return f"{name} ({rfc})"
    if address not in IPV6_GLOBAL_UNICAST:
        return "outside 2000::/3, the only IPv6 Global Unicast space (IANA IPv6 Address Space)"
    return None
