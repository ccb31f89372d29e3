//! The migrations are embedded by `sqlx::migrate!` when the crate compiles; a migration
//! added since the last build must make it compile again, or the binary would carry the
//! old list and never apply the new one.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
