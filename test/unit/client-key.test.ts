// Per-client limits (connections, HTTP/2 streams, bodies in transit, logins under way) count an IPv6 client by its
// /64: a host given a /64 may take any of its 2^64 addresses, and counted by address it would get a share per
// address it cared to use. (End-to-end tests cannot dial from several IPv6 addresses without changing the machine's
// routes, so the key is checked here; the limits that use it are tested over real connections from IPv4 addresses.)
import { describe, expect, it } from "vitest";
import { clientKeyOf } from "../../src/transport/listener-per-client-limit.js";

describe("clientKeyOf", () => {
  it("takes an IPv4 client as its address, however the listener spelt it", () => {
    expect(clientKeyOf("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKeyOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKeyOf("::FFFF:203.0.113.7")).toBe("203.0.113.7");
  });

  it("takes every address of one IPv6 /64 as one client, and two /64s as two", () => {
    const oneNetwork = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:0db8:0001:0002:0:0:0:7", "2001:db8:1:2::203.0.113.7"];
    expect(new Set(oneNetwork.map(clientKeyOf))).toEqual(new Set(["2001:db8:1:2::/64"]));
    expect(clientKeyOf("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(clientKeyOf("fe80::1%eth0")).toBe("fe80::/64");
  });

  it("keeps what is no address as it is (a socket already gone has none)", () => {
    expect(clientKeyOf("")).toBe("");
  });
});
