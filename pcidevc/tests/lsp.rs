//! `pcidevc lsp` driven by a scripted client: the built binary is spawned
//! and spoken to in JSON-RPC with Content-Length framing over its stdio,
//! as an editor would.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pcidevc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn pcidevc lsp");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("a Content-Length header")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let msg: Value = serde_json::from_slice(&body).expect("a JSON body");
                assert_eq!(msg["jsonrpc"], "2.0");
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 0,
        }
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its response (notifications received
    /// meanwhile are dropped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
    }

    fn wait_for(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(m) if want(&m) => return m,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no awaited message within {TIMEOUT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
            }
        }
    }

    fn diagnostics_for(&mut self, uri: &str) -> Value {
        self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        })["params"]
            .clone()
    }

    fn initialize(&mut self) -> Value {
        let r = self.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        self.notify("initialized", json!({}));
        r
    }

    /// Close stdin and wait for the exit status.
    fn finish(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().expect("exited, not killed");
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// Line and UTF-16 column of the `nth` occurrence of `needle`.
fn pos(text: &str, needle: &str, nth: usize) -> Value {
    let at = text.match_indices(needle).nth(nth).expect("needle").0;
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..at].encode_utf16().count()})
}

fn at(uri: &str, text: &str, needle: &str, nth: usize) -> Value {
    json!({"textDocument": {"uri": uri}, "position": pos(text, needle, nth)})
}

const BROKEN: &str = "device t {
    id 0x1234:0x0001;
    state flag: bool = false;
    state rx: fifo[u8; 16];
    hook log(x: u32);
    timer tick { flag = true; }
    bar 0 mem32 size 4K {
        register CTRL @ 0x0 : u32 {
            field go [0] rw = 1;
            field mode [2:1] rw { off = 0, fast = 2 };
            on write { if CTRL.go { flag = true; start tick after 1 ms; rx.push(value); log(1); } }
        }
        register STATUS @ 0x4 : u32 { read /* é😀 */ missing; }
        register DATA @ 0xc : u32 { read rx.front; }
        include \"more.pcidev\";
    }
}
";

#[test]
fn a_scripted_editor_session() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("t.pcidev");
    std::fs::write(&spec, BROKEN).unwrap();
    let more = dir.path().join("more.pcidev");
    let more_text = "register EXTRA @ 0x8 : u32 rw = 7;\n";
    std::fs::write(&more, more_text).unwrap();
    let (uri, more_uri) = (uri(&spec), uri(&more));

    let mut c = Client::start();
    let init = c.initialize();
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"], 1, "full synchronization: {init}");
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["documentFormattingProvider"], true);
    assert_eq!(caps["documentSymbolProvider"], true);
    assert_eq!(
        caps["completionProvider"]["triggerCharacters"],
        json!(["."])
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "pcidevc");

    // An unknown request: a proper error, and the server goes on.
    let r = c.request("textDocument/frobnicate", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");

    // Diagnostics of the broken spec: `pcidevc check`'s, at UTF-16 columns
    // (the comment before `missing` holds a 2-byte and a 4-byte character).
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "pcidev", "version": 1, "text": BROKEN}}),
    );
    let p = c.diagnostics_for(&uri);
    assert_eq!(p["version"], 1);
    let diags = p["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{p}");
    let d = &diags[0];
    assert_eq!(d["code"], "E0402");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "pcidevc");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown name `missing`"),
        "{d}"
    );
    let start = pos(BROKEN, "missing", 0);
    assert_eq!(
        start,
        json!({"line": 12, "character": 53}),
        "UTF-16, not bytes (57) or chars (52)"
    );
    assert_eq!(d["range"]["start"], start);
    assert_eq!(d["range"]["end"], json!({"line": 12, "character": 60}));

    // Fix it as you type: the diagnostics go away.
    let fixed = BROKEN.replace("missing", "flag");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let p = c.diagnostics_for(&uri);
    assert_eq!(p["version"], 2);
    assert_eq!(p["diagnostics"], json!([]), "{p}");

    // Go to definition: a timer, a field, a state, a hook, and a register
    // declared in the included file.
    let def = |c: &mut Client, needle: &str, nth: usize| {
        c.request("textDocument/definition", at(&uri, &fixed, needle, nth))["result"].clone()
    };
    let here = |needle: &str, nth: usize, len: usize| {
        let p = pos(&fixed, needle, nth);
        let end =
            json!({"line": p["line"], "character": p["character"].as_u64().unwrap() + len as u64});
        json!({"uri": uri, "range": {"start": p, "end": end}})
    };
    assert_eq!(def(&mut c, "tick after", 0), here("tick", 0, 4));
    assert_eq!(def(&mut c, "go {", 0), here("go [0]", 0, 2));
    assert_eq!(def(&mut c, "flag;", 0), here("flag", 0, 4));
    assert_eq!(def(&mut c, "log(1", 0), here("log", 0, 3));
    assert_eq!(def(&mut c, "CTRL.go", 0), here("CTRL", 0, 4));
    assert_eq!(
        def(&mut c, "tick {", 0),
        here("tick", 0, 4),
        "a declaration is its own definition"
    );
    // A use in another file: open a scenario that names EXTRA.
    let with_use = fixed.replace(
        "    }\n}\n",
        "    }\n    scenario s { expect EXTRA == 7; }\n}\n",
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": with_use}]}),
    );
    assert_eq!(c.diagnostics_for(&uri)["diagnostics"], json!([]));
    let r = c.request("textDocument/definition", at(&uri, &with_use, "EXTRA", 0));
    assert_eq!(r["result"]["uri"], more_uri, "{r}");
    assert_eq!(
        r["result"]["range"]["start"],
        json!({"line": 0, "character": 9})
    );

    // The included fragment, opened too, is answered from the spec that
    // includes it: no "not a spec" errors, its register is in BAR 0.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": more_uri, "languageId": "pcidev", "version": 1, "text": more_text}}),
    );
    assert_eq!(c.diagnostics_for(&more_uri)["diagnostics"], json!([]));
    let r = c.request("textDocument/hover", at(&more_uri, more_text, "EXTRA", 0));
    let h = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        h.contains("BAR 0 (mem32)") && h.contains("reset 0x7"),
        "{h}"
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": more_uri}}),
    );

    // Hover: a register's layout and behaviour, a state's type and reset.
    let hover = |c: &mut Client, needle: &str| {
        let r = c.request("textDocument/hover", at(&uri, &with_use, needle, 0));
        assert_eq!(r["result"]["contents"]["kind"], "markdown", "{r}");
        r["result"]["contents"]["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let h = hover(&mut c, "CTRL.go");
    for want in [
        "register CTRL @ 0x0 : u32",
        "BAR 0 (mem32), bytes 0x0..=0x3, 32 bits",
        "reset 0x1",
        "| `go` | [0] | rw | 0x1 |",
        "| `mode` | [2:1] | rw | 0x0 |",
        "- on write: sets `flag`; starts `tick`; `rx.push()`; calls `log`",
    ] {
        assert!(h.contains(want), "hover lacks {want:?}:\n{h}");
    }
    let h = hover(&mut c, "STATUS");
    assert!(
        h.contains("no storage: reads its `read` expression") && h.contains("- read: `flag`"),
        "{h}"
    );
    let h = hover(&mut c, "flag");
    assert!(
        h.contains("state flag: bool") && h.contains("reset: false"),
        "{h}"
    );
    let h = hover(&mut c, "rx.push");
    assert!(
        h.contains("state rx: fifo[u8; 16]") && h.contains("reset: empty"),
        "{h}"
    );
    let h = hover(&mut c, "mode");
    assert!(
        h.contains("field CTRL.mode [2:1] rw") && h.contains("`fast` = 2"),
        "{h}"
    );

    // The outline: the device, its items, a register's fields; the hover
    // range is the name hovered.
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let device = &r["result"][0];
    assert_eq!(device["name"], "t", "{r}");
    let names: Vec<&str> = device["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["flag", "rx", "log", "tick", "CTRL", "STATUS", "DATA", "s"],
        "EXTRA is in more.pcidev"
    );
    let ctrl = &device["children"][4];
    assert_eq!(ctrl["children"][1]["name"], "mode");
    assert_eq!(ctrl["children"][1]["children"][1]["name"], "fast");
    let r = c.request("textDocument/hover", at(&uri, &with_use, "tick after", 0));
    let p = pos(&with_use, "tick after", 0);
    assert_eq!(r["result"]["range"]["start"], p, "{r}");

    // Completion: fields after `REG.`, FIFO members after `rx.`, names and
    // keywords elsewhere.
    let labels = |c: &mut Client, needle: &str, after: usize| {
        let mut p = pos(&with_use, needle, 0);
        p["character"] = json!(p["character"].as_u64().unwrap() + after as u64);
        let r = c.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": p}),
        );
        r["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(&mut c, "CTRL.go", 5), ["go", "mode"]);
    let l = labels(&mut c, "rx.push", 3);
    assert!(
        l.contains(&"push".to_string()) && l.contains(&"len".to_string()),
        "{l:?}"
    );
    let l = labels(&mut c, "flag;", 0);
    for want in [
        "flag", "rx", "CTRL", "STATUS", "EXTRA", "tick", "log", "value", "if",
    ] {
        assert!(l.iter().any(|x| x == want), "{want} not offered: {l:?}");
    }
    let l = labels(&mut c, "expect EXTRA", 0);
    assert!(
        l.contains(&"expect".to_string()) && l.contains(&"advance".to_string()),
        "scenario keywords: {l:?}"
    );

    // Robustness: bad parameters, positions past the end, garbage text.
    let r = c.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 999, "character": 999}}),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": "file:///not/open.pcidev"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    for (v, junk) in [
        "device { ((((",
        "\u{0}\u{ffff}😀 }}}} register",
        &"(".repeat(10_000),
        "",
    ]
    .into_iter()
    .enumerate()
    {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 10 + v}, "contentChanges": [{"text": junk}]}),
        );
        let p = c.diagnostics_for(&uri);
        assert!(
            !p["diagnostics"].as_array().unwrap().is_empty(),
            "{junk:?} is an error"
        );
        for needle in [(0, 0), (0, 3), (5, 5)] {
            let tdp = json!({"textDocument": {"uri": uri}, "position": {"line": needle.0, "character": needle.1}});
            for m in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/completion",
                "textDocument/formatting",
            ] {
                let r = c.request(m, tdp.clone());
                assert!(
                    r.get("error").is_none() || m == "textDocument/formatting",
                    "{m} on {junk:?}: {r}"
                );
            }
        }
    }

    // Formatting: pcidevc fmt's layout as one edit.
    let messy = "device t { id 0x1:0x2; }\n";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 20}, "contentChanges": [{"text": messy}]}),
    );
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let edits = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], "device t {\n    id 0x1:0x2;\n}\n");

    // Closing clears the diagnostics it published.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 21}, "contentChanges": [{"text": BROKEN}]}),
    );
    assert_eq!(
        c.diagnostics_for(&uri)["diagnostics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let p = c.diagnostics_for(&uri);
    assert_eq!(p["diagnostics"], json!([]), "{p}");

    // Shutdown, then every request is refused, then exit: status 0.
    let r = c.request("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null);
    assert!(r.get("error").is_none(), "{r}");
    let r = c.request("textDocument/hover", at(&uri, messy, "t", 0));
    assert_eq!(r["error"]["code"], -32600, "{r}");
    c.notify("exit", Value::Null);
    assert_eq!(c.finish(), 0);
}

#[test]
fn exit_without_shutdown_fails_and_end_of_input_ends_it() {
    let mut c = Client::start();
    c.initialize();
    c.notify("exit", Value::Null);
    assert_eq!(c.finish(), 1, "exit without shutdown is status 1");

    let mut c = Client::start();
    c.initialize();
    assert_eq!(c.finish(), 1, "stdin closed without exit");
}

/// A message that is not JSON-RPC ends the server with status 1 and says
/// why on stderr, before or after initialization.
#[test]
fn malformed_input_is_reported_not_panicked() {
    for after_init in [false, true] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pcidevc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if after_init {
            for m in [
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
                json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            ] {
                let body = m.to_string();
                write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
            }
        }
        stdin.write_all(b"Content-Length: 5\r\n\r\n{oops").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1), "after_init {after_init}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("malformed LSP payload") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn help_documents_the_server() {
    let out = Command::new(env!("CARGO_BIN_EXE_pcidevc"))
        .args(["lsp", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("language server") && text.contains("Neovim") && text.contains("Helix"),
        "{text}"
    );
}
