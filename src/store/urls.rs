//! What the switch adds to a PostgreSQL URL before connecting.
//!
//! TLS to a server on this machine: sqlx, like libpq, defaults to
//! `sslmode=prefer`: with a server that offers TLS (Debian's does, with its snake-oil
//! certificate) every connection over loopback is encrypted, which protects nothing (the
//! bytes never leave the kernel, and whoever can read them there can read the server's
//! memory) and costs the switch about 7 % of its CPU per payment (docs/benchmarks.md). A URL
//! that names a loopback host and no `sslmode` therefore connects without TLS; any URL that
//! names an `sslmode` keeps it, and so does every other host.

/// `url` as the switch connects with it: `sslmode=disable` added for a loopback host when
/// the URL names no `sslmode`; otherwise unchanged.
pub fn effective_url(url: &str) -> String {
    with_default(
        url,
        &["sslmode", "ssl-mode"],
        ("sslmode", "disable"),
        is_loopback,
    )
}

/// `url` with `application_name` set to `name` where it sets none, so that an operator
/// tells this pool's connections apart in `pg_stat_activity`; other URLs unchanged.
pub fn named_url(url: &str, name: &str) -> String {
    with_default(
        url,
        &["application_name"],
        ("application_name", name),
        |_| true,
    )
}

/// A PostgreSQL `url` with `(key, value)` added where it names none of `names` and
/// `applies` to it; any other URL (or one that does not parse: sqlx reports that in its own
/// words) unchanged.
fn with_default(
    url: &str,
    names: &[&str],
    (key, value): (&str, &str),
    applies: impl Fn(&url::Url) -> bool,
) -> String {
    let Ok(mut parsed) = url::Url::parse(url.trim()) else {
        return url.to_owned();
    };
    let named = parsed
        .query_pairs()
        .any(|(k, _)| names.contains(&k.as_ref()));
    if named || !matches!(parsed.scheme(), "postgres" | "postgresql") || !applies(&parsed) {
        return url.to_owned();
    }
    parsed.query_pairs_mut().append_pair(key, value);
    parsed.into()
}

/// Whether the URL's host is this machine. `postgres:` is not a scheme the URL standard
/// knows, so an IPv4 host comes as a name.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{effective_url, named_url};

    #[test]
    fn a_pool_is_named_unless_the_url_names_it() {
        assert_eq!(
            named_url("postgres://u@db/q", "qrswitch-resolutions"),
            "postgres://u@db/q?application_name=qrswitch-resolutions"
        );
        let named = "postgres://u@db/q?application_name=mine";
        assert_eq!(named_url(named, "qrswitch-resolutions"), named);
        assert_eq!(named_url("sqlite://q.db", "x"), "sqlite://q.db");
    }

    #[test]
    fn a_loopback_host_without_sslmode_connects_without_tls() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/qrswitch",
            "postgresql://u:p@localhost/db",
            "postgres://u@[::1]:5433/db?application_name=qrswitch",
        ] {
            let effective = effective_url(url);
            assert!(effective.starts_with(url), "{effective}");
            assert!(effective.ends_with("sslmode=disable"), "{effective}");
        }
    }

    #[test]
    fn a_named_sslmode_or_another_host_is_kept() {
        for url in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@localhost/db?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://u@db.internal:5432/db",
            "postgres://u@10.0.0.5/db",
            "sqlite://qrswitch.db",
            "not a url",
        ] {
            assert_eq!(effective_url(url), url);
        }
    }
}
