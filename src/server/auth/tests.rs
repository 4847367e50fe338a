use super::*;

#[test]
fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
    let proxy: IpAddr = "10.1.2.3".parse().unwrap();
    let stranger: IpAddr = "203.0.113.9".parse().unwrap();
    assert_eq!(client_behind(&trusted, proxy, "198.51.100.7"), "198.51.100.7".parse::<IpAddr>().unwrap());
    // A client cannot choose its address by sending the header itself.
    assert_eq!(client_behind(&trusted, stranger, "198.51.100.7"), stranger);
    assert_eq!(client_behind(&[], proxy, "198.51.100.7"), proxy);
    // Spoofed hops left of the first untrusted one are ignored.
    assert_eq!(
        client_behind(&trusted, proxy, "1.1.1.1, 198.51.100.7, 10.9.9.9"),
        "198.51.100.7".parse::<IpAddr>().unwrap()
    );
    assert_eq!(client_behind(&trusted, proxy, "garbage"), proxy);
}

#[test]
fn ipv6_clients_are_counted_per_64() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(network_of(a), network_of(b));
    assert_ne!(network_of(a), network_of(c));
    assert_eq!(network_of("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
}
