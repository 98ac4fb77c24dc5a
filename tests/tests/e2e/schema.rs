//! The committed `schema.graphql` is what the server serves.

#[test]
fn committed_schema_matches_the_served_sdl() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let served = api::graphql::schema::sdl();
    assert!(
        committed == served,
        "schema.graphql is out of date; regenerate it with\n    cargo run -q -p api -- export-schema > schema.graphql\nand review the diff"
    );
}
