//! A three-node Qdrant cluster on loopback, with a node lost: the library's collection is made
//! with 3 shards and 2 copies of each, the papers are imported into it, one node is killed with
//! SIGKILL, and search and `ask` answer exactly as before; an import during the outage is
//! complete (or refused whole); the node restarts and catches up, shown by then losing another
//! node and still finding every passage, the outage's included.
//!
//! Runs when `QDRANT_BIN` names a built server (`scripts/test.sh` sets it when
//! `scripts/provision.sh --with-qdrant` built one); otherwise it says loudly that it was skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ok, search_results as results, store_passages as passages, studydesk};

const KEY: &str = "cluster-test-key";

struct Node {
    name: &'static str,
    http: u16,
    grpc: u16,
    p2p: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Node {
    fn new(name: &'static str, root: &Path) -> Node {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Node {
            name,
            http: free_port(),
            grpc: free_port(),
            p2p: free_port(),
            dir,
            child: None,
        }
    }

    /// Starts the node; the first one founds the cluster, the others join it through `first`.
    fn start(&mut self, bin: &Path, first: Option<u16>) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("qdrant.log"))
            .unwrap();
        let mut command = Command::new(bin);
        command
            .current_dir(&self.dir)
            .env("QDRANT__SERVICE__HOST", "127.0.0.1")
            .env("QDRANT__SERVICE__HTTP_PORT", self.http.to_string())
            .env("QDRANT__SERVICE__GRPC_PORT", self.grpc.to_string())
            .env("QDRANT__SERVICE__API_KEY", KEY)
            .env("QDRANT__STORAGE__STORAGE_PATH", self.dir.join("storage"))
            .env(
                "QDRANT__STORAGE__SNAPSHOTS_PATH",
                self.dir.join("snapshots"),
            )
            .env("QDRANT__TELEMETRY_DISABLED", "true")
            .env("QDRANT__LOG_LEVEL", "WARN")
            .env("QDRANT__CLUSTER__ENABLED", "true")
            .env("QDRANT__CLUSTER__P2P__PORT", self.p2p.to_string())
            .args(["--uri", &format!("http://127.0.0.1:{}", self.p2p)])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(first) = first {
            command.args(["--bootstrap", &format!("http://127.0.0.1:{first}")]);
        }
        self.child = Some(common::dies_with_test(&mut command).spawn().unwrap());
        wait_for(
            &format!("{} ready", self.name),
            Duration::from_secs(60),
            || self.get("/readyz").is_some(),
        );
    }

    fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }

    fn get(&self, path: &str) -> Option<serde_json::Value> {
        let mut response = ureq::get(&format!("http://127.0.0.1:{}{path}", self.http))
            .header("api-key", KEY)
            .call()
            .ok()?;
        let body = response.body_mut().read_to_string().ok()?;
        Some(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// What `ask` answers (generation off: the quoted sentences and the sources), without the line
/// naming the conversation it was stored in.
fn answer(dir: &Path, question: &str) -> String {
    ok(&studydesk(dir, &["ask", question]))
        .lines()
        .filter(|l| !l.starts_with("(conversation "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every shard replica of the collection, as the cluster reports it: (peer, shard, state).
fn replicas(node: &Node, collection: &str) -> Vec<(u64, u64, String)> {
    let Some(info) = node.get(&format!("/collections/{collection}/cluster")) else {
        return Vec::new();
    };
    let result = &info["result"];
    let me = result["peer_id"].as_u64().unwrap_or(0);
    let mut out = Vec::new();
    for s in result["local_shards"].as_array().into_iter().flatten() {
        out.push((
            me,
            s["shard_id"].as_u64().unwrap(),
            s["state"].as_str().unwrap_or("").to_string(),
        ));
    }
    for s in result["remote_shards"].as_array().into_iter().flatten() {
        out.push((
            s["peer_id"].as_u64().unwrap(),
            s["shard_id"].as_u64().unwrap(),
            s["state"].as_str().unwrap_or("").to_string(),
        ));
    }
    out.sort();
    out
}

const QUERIES: [&str; 3] = [
    "how does LoRA keep the pretrained weights frozen",
    "LoRA 为什么不增加推理延迟?",
    "multi-head attention scaled dot product",
];

#[test]
fn a_three_node_cluster_loses_a_node_and_answers_the_same() {
    let Some(bin) = std::env::var_os("QDRANT_BIN")
        .map(PathBuf::from)
        .filter(|b| b.is_file())
    else {
        common::say(
            "cluster test SKIPPED: QDRANT_BIN is not set (scripts/provision.sh --with-qdrant builds a server; scripts/test.sh sets it)"
                .into(),
        );
        return;
    };
    let root = common::scratch("cluster");
    let mut nodes = [
        Node::new("node1", &root),
        Node::new("node2", &root),
        Node::new("node3", &root),
    ];
    let first = nodes[0].p2p;
    nodes[0].start(&bin, None);
    nodes[1].start(&bin, Some(first));
    nodes[2].start(&bin, Some(first));
    wait_for("3 peers", Duration::from_secs(60), || {
        nodes[0]
            .get("/cluster")
            .and_then(|c| c["result"]["peers"].as_object().map(|p| p.len()))
            == Some(3)
    });

    // A library whose index is a collection of 3 shards with 2 copies each, on the cluster.
    let paths = common::fresh_paths("cluster");
    let dir = paths.data_dir.as_path();
    let collection = "studydesk-cluster";
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[llm]\nenabled = false\n\n[store]\nqdrant_url = \"{}\"\napi_key_env = \"STUDYDESK_CLUSTER_KEY\"\ncollection = \"{collection}\"\nshard_number = 3\nreplication_factor = 2\n",
            nodes[0].url()
        ),
    )
    .unwrap();
    // SAFETY: set before the test starts any thread that reads the environment.
    unsafe { std::env::set_var("STUDYDESK_CLUSTER_KEY", KEY) };
    for paper in [
        "lora-2106.09685.pdf",
        "attention-is-all-you-need-1706.03762.pdf",
    ] {
        ok(&studydesk(
            dir,
            &["import", common::paper(paper).to_str().unwrap()],
        ));
    }
    let layout = replicas(&nodes[0], collection);
    assert_eq!(layout.len(), 6, "3 shards × 2 copies: {layout:?}");
    assert!(
        layout.iter().all(|(_, _, state)| state == "Active"),
        "{layout:?}"
    );
    let before: Vec<Vec<String>> = QUERIES.iter().map(|q| results(dir, q)).collect();
    let asked = answer(dir, "Why does LoRA add no inference latency?");
    let count = passages(dir);

    // Node 3 is lost: the same results, the same sources.
    nodes[2].kill();
    for (query, expected) in QUERIES.iter().zip(&before) {
        assert_eq!(&results(dir, query), expected, "{query}");
    }
    assert_eq!(
        answer(dir, "Why does LoRA add no inference latency?"),
        asked
    );
    assert_eq!(passages(dir), count);

    // An import during the outage completes, or is refused with nothing half-written.
    let rms = common::paper("rmsnorm-1910.07467.pdf");
    let out = studydesk(dir, &["import", rms.to_str().unwrap()]);
    let docs: serde_json::Value =
        serde_json::from_str(&ok(&studydesk(dir, &["docs", "--json"]))).unwrap();
    let rms_doc = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file_name"] == "rmsnorm-1910.07467.pdf");
    let during = passages(dir);
    common::say(format!(
        "cluster: the import during the outage {}",
        if out.status.success() {
            "completed"
        } else {
            "was refused"
        }
    ));
    if out.status.success() {
        let chunks = rms_doc.expect("listed")["chunks"].as_u64().unwrap() as usize;
        assert_eq!(during, count + chunks);
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("rmsnorm-1910.07467.pdf"), "{err}");
        assert!(rms_doc.is_none(), "{docs}");
        assert_eq!(during, count);
    }

    // What the cluster answers now (an imported paper changes the ranking: BM25's statistics).
    let after_import: Vec<Vec<String>> = QUERIES.iter().map(|q| results(dir, q)).collect();

    // Node 3 comes back and its copies catch up.
    nodes[2].start(&bin, Some(first));
    wait_for(
        "every replica active again",
        Duration::from_secs(180),
        || {
            let now = replicas(&nodes[0], collection);
            now.len() == 6 && now.iter().all(|(_, _, state)| state == "Active")
        },
    );
    // Then node 2 is lost: some shard now has its only copy on node 3, so every passage,
    // the outage's import included, must have reached node 3, and the answers are the same.
    let peer = |n: &Node| {
        n.get("/cluster").unwrap()["result"]["peer_id"]
            .as_u64()
            .unwrap()
    };
    let (two, three) = (peer(&nodes[1]), peer(&nodes[2]));
    let layout = replicas(&nodes[0], collection);
    let only_on_three = (0..3).any(|shard| {
        let mut peers: Vec<u64> = layout
            .iter()
            .filter(|(_, s, _)| *s == shard)
            .map(|(p, _, _)| *p)
            .collect();
        peers.sort();
        let mut pair = vec![two, three];
        pair.sort();
        peers == pair
    });
    assert!(only_on_three, "no shard on nodes 2 and 3 alone: {layout:?}");
    nodes[1].kill();
    assert_eq!(passages(dir), during);
    for (query, expected) in QUERIES.iter().zip(&after_import) {
        assert_eq!(&results(dir, query), expected, "{query}");
    }
}
