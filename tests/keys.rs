//! API keys in the OS keyring, end to end: a private session bus with GNOME Keyring's Secret
//! Service (Debian's `gnome-keyring`), the real CLI storing a key, the Secret Service holding
//! it (read back with `secret-tool`, independently of StudyDesk), no copy in any file, and the
//! real local model server accepting requests only with the stored key.

mod common;

use std::process::Command;

use studydesk_engine::llm::local::{LocalModel, LocalServer, TierChoice};

#[test]
fn a_key_in_the_keyring_reaches_the_provider_and_never_a_file() {
    let paths = common::fresh_paths("keys");
    let home = common::scratch("keys-home");
    let model = LocalModel::choose(TierChoice::Fast, &paths.cache_dir)
        .expect("the local model is provisioned by `bash scripts/setup.sh --with-llm`");
    // A real OpenAI-compatible server that refuses requests without its key.
    let server = LocalServer::start(&model, &home.join("llama-server.log")).unwrap();
    let provider = server.provider();
    let key = provider.api_key.clone().unwrap();
    std::fs::write(
        paths.data_dir.join("config.toml"),
        format!(
            "[llm]\nbase_url = \"{}\"\nmodel = \"{}\"\n",
            provider.base_url, provider.model
        ),
    )
    .unwrap();

    let script = r#"
        set -e
        printf 'unlock' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
        echo "--- status before"
        "$BIN" key status
        echo "--- wrong key"
        printf 'not-the-key\n' | "$BIN" key set
        "$BIN" ask "What is LayerNorm?" 2>&1 && exit 1 || true
        echo "--- right key"
        printf '%s\n' "$KEY" | "$BIN" key set
        "$BIN" key status
        echo "--- secret-tool"
        secret-tool lookup service studydesk username "$BASE"
        echo
        echo "--- ask"
        "$BIN" ask "What is LayerNorm?"
        echo "--- delete"
        "$BIN" key delete
        "$BIN" key status
    "#;
    let output = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .env("BIN", env!("CARGO_BIN_EXE_studydesk"))
        .env("KEY", &key)
        .env("BASE", &provider.base_url)
        .env("STUDYDESK_DATA_DIR", &paths.data_dir)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("share"))
        .env("XDG_RUNTIME_DIR", &home)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session (apt: dbus) and gnome-keyring are installed by scripts/test.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let section = |name: &str| -> String {
        stdout
            .split(&format!("--- {name}\n"))
            .nth(1)
            .and_then(|rest| rest.split("\n---").next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        section("status before").contains("no API key stored"),
        "{stdout}"
    );
    assert!(
        section("wrong key").contains("refused the API key"),
        "a wrong stored key is sent and refused: {stdout}\n{stderr}"
    );
    assert!(section("right key").contains("is stored"), "{stdout}");
    assert_eq!(
        section("secret-tool").trim(),
        key,
        "the Secret Service holds the key"
    );
    // No document is imported, so the answer is the model's own, marked as such: it came
    // back only because the endpoint accepted the stored key (the script stops on an error).
    let answer = section("ask");
    assert!(
        answer.contains("general knowledge"),
        "the stored key was used: {answer}\n{stderr}"
    );
    assert!(section("delete").contains("no API key stored"), "{stdout}");
    // The key is in no file StudyDesk wrote.
    for entry in std::fs::read_dir(&paths.data_dir).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&key),
                "the key leaked into {}",
                entry.path().display()
            );
        }
    }
}
