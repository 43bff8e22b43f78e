//! The checked-in `include/portcullis.h` must be exactly what the pinned cbindgen generates from
//! this crate. `PCL_BLESS=1 cargo test -p portcullis-ffi --test header` rewrites it.

use std::path::Path;

#[test]
fn checked_in_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = crate_dir.join("../include/portcullis.h");
    if std::env::var_os("PCL_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/portcullis.h");
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/portcullis.h differs from what cbindgen generates; \
         run `PCL_BLESS=1 cargo test -p portcullis-ffi --test header` and commit the result"
    );
}
