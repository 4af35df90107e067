//! The `clausum-origin` binary as a newcomer uses it: `serve` on an empty
//! database bootstraps a sandbox and prints its keys, `init --json` creates
//! an organisation, `openapi` prints the committed spec; and a rolling
//! restart of two replicas under load (`rolling`).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

#[path = "cli/rolling.rs"]
mod rolling;

const BIN: &str = env!("CARGO_BIN_EXE_clausum-origin");

fn temp_db() -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("clausum-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/clausum.db", dir.display());
    (dir, url)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn first_serve_bootstraps_a_sandbox_that_answers_assess() {
    let (dir, url) = temp_db();
    let port = free_port();
    let mut child = Command::new(BIN)
        .env("CLAUSUM_DATABASE_URL", &url)
        .env("CLAUSUM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CLAUSUM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);

    // The first start prints the sandbox's admin login and secret key
    // once. The rest of stdout is drained on a thread, as a terminal would
    // read it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for label in ["admin_email:", "admin_password:", "secret key:", "Dashboard:"] {
                if let Some(v) = line.strip_prefix(label) {
                    let _ = tx.send((label, v.trim().to_owned()));
                }
            }
        }
    });
    let mut printed = std::collections::HashMap::new();
    while printed.len() < 4 {
        let (label, value) =
            rx.recv_timeout(Duration::from_secs(30)).expect("the first start prints its secrets");
        printed.insert(label, value);
    }
    let secret = printed["secret key:"].clone();
    assert!(secret.starts_with("clm_sk_"));
    assert!(
        printed["Dashboard:"].starts_with(&format!("http://127.0.0.1:{port}/dashboard")),
        "{printed:?}"
    );

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let body =
        serde_json::json!({"amount": 1500, "currency": "MXN", "email": "customer@example.com"});
    let res = loop {
        match client
            .post(format!("http://127.0.0.1:{port}/api/v1/assess"))
            .bearer_auth(&secret)
            .json(&body)
            .send()
            .await
        {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("server never answered: {e}"),
        }
    };
    assert_eq!(res.status(), 200);
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["decision"], "approve");

    // A newcomer signs in to the dashboard with the printed login.
    let page = client.get(format!("http://127.0.0.1:{port}/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("assets/app.js"));
    let login = client
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": printed["admin_email:"], "password": printed["admin_password:"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: serde_json::Value = login.json().await.unwrap();
    assert_eq!(login["user"]["role"], "admin");
    drop(_server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn init_prints_credentials_as_json() {
    let (dir, url) = temp_db();
    let out = Command::new(BIN)
        .args([
            "init",
            "--org",
            "Banco Uno",
            "--segment",
            "banco",
            "--json",
            "--database-url",
            &url,
        ])
        .output()
        .expect("init runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(creds["organization_id"].as_str().unwrap().starts_with("org_"));
    assert_eq!(creds["segment"], "banco");
    assert!(creds["admin_email"].as_str().unwrap().contains('@'));
    assert!(creds["admin_password"].as_str().unwrap().len() >= 16);
    for (field, prefix) in
        [("secret", "clm_sk_"), ("publishable", "clm_pub_"), ("ingest", "clm_wh_")]
    {
        let key = creds["keys"][field].as_str().unwrap();
        assert!(clausum_core::keys::ApiKey::parse(key).is_ok(), "{field} key does not parse");
        assert!(key.starts_with(prefix));
    }
    // A bad segment is a usage error, not a crash.
    let bad = Command::new(BIN)
        .args(["init", "--org", "X", "--segment", "casino", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("comercio, psp or banco"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn openapi_prints_the_committed_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).unwrap();
    assert_eq!(out.stdout, committed);
}
