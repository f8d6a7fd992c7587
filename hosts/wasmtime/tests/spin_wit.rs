//! The Spin profile implements Spin's interfaces exactly as the spin-sdk crate
//! publishes them: the vendored WIT files must be byte-identical to the crate's.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spin_sdk_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&workspace)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let manifest = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "spin-sdk")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("spin-sdk is a dependency of hosts/spin");
    Path::new(manifest)
        .parent()
        .expect("crate dir")
        .to_path_buf()
}

#[test]
fn vendored_spin_interfaces_match_the_spin_sdk_crate() {
    let sdk = spin_sdk_dir().join("wit/deps");
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit-spin/deps");
    for file in ["spin-sqlite@3.0.0/sqlite.wit", "spin@2.0.0/variables.wit"] {
        let published = std::fs::read(sdk.join(file)).expect("published file");
        let vendored = std::fs::read(ours.join(file)).expect("vendored file");
        assert!(published == vendored, "{file} differs from spin-sdk's");
    }
}
