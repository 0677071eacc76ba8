//! Language-server latency on the generated 16k- and 160k-op programs, measured over stdio the way
//! an editor sees it.
//!
//! `cargo run --release -p mil-bench --bin lsp_bench -- [--mil PATH] [OPS...]` starts `mil lsp`
//! (default `target/release/mil`), opens each program as an unsaved document, and reports:
//! open → first diagnostics; edit → diagnostics of that version (p50/p95 over 300 edits typed
//! inside statements: op names, argument spacing and literal digits, each followed by its undo);
//! hover request → answer (p50/p95 over 200 hovers on op kinds and values). Edits are typed
//! `--pace MS` apart (default 50 ms after the previous edit's diagnostics: 20 keys a second, a
//! fast typist; `--pace 0` sends each edit the moment the last one's diagnostics arrive).
//! `--no-undo` leaves every edit in place (300 edits, no undos), so each edit lands in another
//! statement while the text before it has grown.
//! `--text OPS` prints the program of that size instead.
//!
//! Then the edits that add, remove or reshape statements, each class followed by its undo and
//! reported apart (edit → diagnostics of that version, p50/p95): a space inserted into and deleted
//! from a line's indentation, a new line, a statement typed key by key on a new line (quotes come
//! in pairs, as the VS Code extension's language configuration types them; brackets do not), a
//! line and a layer's block of eight lines deleted, 100 statements pasted, a space and a digit of
//! the function's header; with hover and completion requests answered between the keys of the
//! typed statements; and a lone `"` typed (every later line then reads differently: the one class
//! that needs a full analysis). `--structural N` sets how many edits of each class (default 40).

use mil_bench::ConvChain;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// A `mil lsp` process and the messages it sends.
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start(mil: &str) -> Server {
        let mut child = Command::new(mil)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {mil}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
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
                        len = v.parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                if let Ok(v) = serde_json::from_slice(&body)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        Server {
            stdin: child.stdin.take().expect("piped stdin"),
            child,
            messages: rx,
            next_id: 1,
        }
    }

    /// Shuts the server down and waits for it to exit.
    fn stop(mut self) {
        self.request("shutdown", json!(null));
        self.notify("exit", json!(null));
        let _ = self.child.wait();
    }

    fn frame(message: &Value) -> Vec<u8> {
        let body = serde_json::to_vec(message).expect("json");
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend(body);
        out
    }

    fn send_bytes(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("server alive");
        self.stdin.flush().expect("server alive");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let bytes = Self::frame(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
        self.send_bytes(&bytes);
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let bytes = Self::frame(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.send_bytes(&bytes);
        self.wait(|m| m["id"] == id)["result"].clone()
    }

    fn wait(&mut self, mut done: impl FnMut(&Value) -> bool) -> Value {
        loop {
            let m = self
                .messages
                .recv_timeout(Duration::from_secs(600))
                .expect("the server answers");
            if done(&m) {
                return m;
            }
        }
    }

    /// Sends one change of `uri` at `version`: `range` (line, column to line, column) replaced by
    /// `text`; returns the milliseconds until its diagnostics arrive.
    fn edit(&mut self, uri: &str, version: i64, range: [(usize, usize); 2], text: &str) -> f64 {
        let change = json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{
            "range": {"start": {"line": range[0].0, "character": range[0].1},
                      "end": {"line": range[1].0, "character": range[1].1}},
            "text": text}]});
        let t = Instant::now();
        self.notify("textDocument/didChange", change);
        self.wait_diagnostics(version);
        ms(t.elapsed())
    }

    fn wait_diagnostics(&mut self, version: i64) -> usize {
        let m = self
            .wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version);
        m["params"]["diagnostics"].as_array().map_or(0, Vec::len)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A tiny deterministic generator, so runs are comparable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A statement line made new: its result and op names get `tag` appended.
fn renamed(line: &str, tag: &str) -> String {
    let eq = line.find(" = ").expect("a statement");
    let start = line[..eq].rfind(' ').map_or(0, |i| i + 1);
    let name = &line[start..eq];
    format!(
        "{}{name}{tag}{}",
        &line[..start],
        line[eq..].replace(
            &format!("string(\"{name}\")"),
            &format!("string(\"{name}{tag}\")")
        )
    )
}

/// Latencies of one class of edits.
struct Class {
    name: &'static str,
    ms: Vec<f64>,
}

/// The edits that add, remove or reshape statements (see the crate doc), `n` of each class, on
/// the open document `uri` whose text is `text` at `version`; each class's undo is a class of its
/// own. Returns the classes, with hover and completion during typing as two more.
fn structural_edits(
    server: &mut Server,
    uri: &str,
    chain: &ConvChain,
    text: &str,
    version: &mut i64,
    pace: Duration,
    n: usize,
) -> Vec<Class> {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut rng = Rng(0xb10c);
    let layer_line = |i: usize, k: usize| 4 + 8 * i + k;
    let mut classes: Vec<Class> = Vec::new();
    let record = |classes: &mut Vec<Class>, name: &'static str, took: f64| match classes
        .iter_mut()
        .find(|c| c.name == name)
    {
        Some(c) => c.ms.push(took),
        None => classes.push(Class { name, ms: vec![took] }),
    };
    let mut send = |server: &mut Server, range: [(usize, usize); 2], text: &str| {
        std::thread::sleep(pace);
        *version += 1;
        server.edit(uri, *version, range, text)
    };
    // Let the server settle (span moves, ANE analysis, package checks) between classes.
    let pause = || std::thread::sleep(Duration::from_millis(4000));

    for _ in 0..n {
        let line = layer_line(rng.below(chain.layers), rng.below(8));
        let took = send(server, [(line, 0), (line, 0)], " ");
        record(&mut classes, "indentation: a space typed", took);
        let took = send(server, [(line, 0), (line, 1)], "");
        record(&mut classes, "indentation: undo", took);
    }
    pause();
    for _ in 0..n {
        let line = layer_line(rng.below(chain.layers), rng.below(8));
        let took = send(server, [(line, 0), (line, 0)], "\n");
        record(&mut classes, "new line", took);
        let took = send(server, [(line, 0), (line + 1, 0)], "");
        record(&mut classes, "new line: undo", took);
    }
    pause();
    // Statements typed key by key, with a hover elsewhere and a completion at the cursor between
    // keys; then the typed line taken back at once.
    let typed = 3.max(n / 20);
    for t in 0..typed {
        let layer = rng.below(chain.layers);
        let line = layer_line(layer, 7);
        let stmt = renamed(&lines[line], &format!("_typed{t}"));
        let took = send(server, [(line, 0), (line, 0)], "\n");
        record(&mut classes, "new line", took);
        let mut col = 0;
        let mut in_string = false;
        for c in stmt.chars() {
            if c == '"' && in_string {
                in_string = false;
                col += 1;
                continue;
            }
            let key = if c == '"' {
                "\"\"".to_string()
            } else {
                c.to_string()
            };
            in_string |= c == '"';
            let took = send(server, [(line, col), (line, col)], &key);
            record(&mut classes, "typing a statement, per key", took);
            col += 1;
            let other = layer_line(rng.below(chain.layers), 6);
            let hover_at = lines[other].find("conv(").expect("a conv") + 2;
            let t0 = Instant::now();
            let h = server.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": other, "character": hover_at}}),
            );
            record(&mut classes, "hover while typing", ms(t0.elapsed()));
            assert!(h["contents"]["value"].is_string(), "hover answered: {h}");
            let t0 = Instant::now();
            server.request(
                "textDocument/completion",
                json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}),
            );
            record(&mut classes, "completion while typing", ms(t0.elapsed()));
        }
        let took = send(server, [(line, 0), (line + 1, 0)], "");
        record(&mut classes, "typed statement: undo (line deleted)", took);
        pause();
    }
    for _ in 0..n {
        let line = layer_line(rng.below(chain.layers), rng.below(8));
        let old = format!("{}\n", lines[line]);
        let took = send(server, [(line, 0), (line + 1, 0)], "");
        record(&mut classes, "line deleted", took);
        let took = send(server, [(line, 0), (line, 0)], &old);
        record(&mut classes, "line deleted: undo", took);
    }
    pause();
    for _ in 0..n {
        let first = layer_line(rng.below(chain.layers), 0);
        let old: String = lines[first..first + 8].iter().map(|l| format!("{l}\n")).collect();
        let took = send(server, [(first, 0), (first + 8, 0)], "");
        record(&mut classes, "block of 8 lines deleted", took);
        let took = send(server, [(first, 0), (first, 0)], &old);
        record(&mut classes, "block deleted: undo", took);
    }
    pause();
    for p in 0..n.div_ceil(4) {
        let from = layer_line(rng.below(chain.layers - 13), 0);
        let pasted: String = (from..from + 100)
            .map(|l| format!("{}\n", renamed(&lines[l], &format!("_p{p}"))))
            .collect();
        let at = layer_line(rng.below(chain.layers), 0);
        let took = send(server, [(at, 0), (at, 0)], &pasted);
        record(&mut classes, "100 statements pasted", took);
        let took = send(server, [(at, 0), (at + 100, 0)], "");
        record(&mut classes, "paste: undo", took);
    }
    pause();
    let header = 3;
    let paren = lines[header].find('(').expect("the parameter list") + 1;
    let digit = lines[header].find("]> x").expect("the input's shape") - 1;
    for i in 0..n {
        let took = send(server, [(header, paren), (header, paren)], " ");
        record(&mut classes, "header: a space typed", took);
        let took = send(server, [(header, paren), (header, paren + 1)], "");
        record(&mut classes, "header: undo", took);
        let old = lines[header][digit..digit + 1].to_string();
        let took = send(
            server,
            [(header, digit), (header, digit + 1)],
            &(i % 10).to_string(),
        );
        record(&mut classes, "header: a digit of the input's shape", took);
        let took = send(server, [(header, digit), (header, digit + 1)], &old);
        record(&mut classes, "header: undo", took);
    }
    pause();
    for _ in 0..5 {
        let line = layer_line(rng.below(chain.layers), 6);
        let took = send(server, [(line, 12), (line, 12)], "\"");
        record(&mut classes, "a lone quote (full analysis)", took);
        let took = send(server, [(line, 12), (line, 13)], "");
        record(&mut classes, "a lone quote: undo (full analysis)", took);
    }
    lines.clear();
    classes
}

fn run(mil: &str, ops: usize, pace: Duration, undo: bool, structural: usize) {
    let chain = ConvChain::with_ops(ops);
    let text = chain.text();
    let lines: Vec<&str> = text.lines().collect();
    let mut server = Server::start(mil);
    server.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {"general": {"positionEncodings": ["utf-16"]}}}),
    );
    server.notify("initialized", json!({}));
    let uri = format!("untitled:bench-{ops}.mil");
    let open = Server::frame(
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "mil", "version": 1, "text": text}}}),
    );
    let t = Instant::now();
    server.send_bytes(&open);
    let diagnostics = server.wait_diagnostics(1);
    let open_ms = ms(t.elapsed());

    // Edits inside statements of random layers, each followed by its undo: in an op's name and in
    // the spacing of its arguments (the op means the same), and in a literal (`[1, 1]` to
    // `[1, 10]`: the op means something else, so the program-wide checks run again).
    let mut rng = Rng(0x5eed);
    let mut edit_ms = Vec::new();
    let mut value_edit_ms = Vec::new();
    let mut version = 1;
    let layer_line = |i: usize, k: usize| 4 + 8 * i + k;
    for _ in 0..if undo { 150 } else { 300 } {
        let layer = rng.below(chain.layers);
        let kind = rng.below(3);
        let (line, needle, insert) = match kind {
            0 => (layer_line(layer, 7), format!("string(\"relu{layer}"), "x"),
            1 => (layer_line(layer, 6), "x = ".to_string(), " "),
            _ => (layer_line(layer, 2), "([1, 1".to_string(), "0"),
        };
        // Inside the name or the spacing; right after the literal's last digit.
        let col = lines[line].find(&needle).expect("the statement") + needle.len() - usize::from(kind < 2);
        let typed = [(col, insert), (col + insert.len(), "")];
        for &(range_end, text) in &typed[..if undo { 2 } else { 1 }] {
            std::thread::sleep(pace);
            version += 1;
            let change = json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{
                "range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": range_end}},
                "text": text}]});
            let t = Instant::now();
            server.notify("textDocument/didChange", change);
            server.wait_diagnostics(version);
            let took = ms(t.elapsed());
            if kind == 2 {
                value_edit_ms.push(took)
            } else {
                edit_ms.push(took)
            }
        }
    }
    let all_ms = {
        let mut all = [edit_ms.clone(), value_edit_ms.clone()].concat();
        all.sort_by(f64::total_cmp);
        all
    };
    edit_ms.sort_by(f64::total_cmp);
    value_edit_ms.sort_by(f64::total_cmp);

    let mut hover_ms = Vec::new();
    for n in 0..200 {
        let layer = rng.below(chain.layers);
        let line = layer_line(layer, 6);
        let needle = if n % 2 == 0 { "conv(" } else { "weight = conv" };
        let col = lines[line].find(needle).expect("the statement") + needle.len() - 2;
        let t = Instant::now();
        let h = server.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col}}),
        );
        hover_ms.push(ms(t.elapsed()));
        assert!(h["contents"]["value"].is_string(), "hover answered: {h}");
    }
    hover_ms.sort_by(f64::total_cmp);
    // The structural edits need the original text (every edit above was taken back).
    let structural = match undo {
        true => structural_edits(&mut server, &uri, &chain, &text, &mut version, pace, structural),
        false => Vec::new(),
    };
    server.stop();

    println!(
        "| program | text | diagnostics | open → diagnostics | every edit p50 / p95 | name and spacing edits p50 / p95 | literal edits p50 / p95 | hover p50 / p95 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {}k ops | {:.1} MB | {diagnostics} | {open_ms:.0} ms | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.1} / {:.1} ms | {:.2} / {:.2} ms |",
        ops / 1000,
        text.len() as f64 / 1e6,
        percentile(&all_ms, 0.5),
        percentile(&all_ms, 0.95),
        percentile(&edit_ms, 0.5),
        percentile(&edit_ms, 0.95),
        percentile(&value_edit_ms, 0.5),
        percentile(&value_edit_ms, 0.95),
        percentile(&hover_ms, 0.5),
        percentile(&hover_ms, 0.95),
    );
    println!(
        "\n| {}k ops: edit class | edits | p50 | p95 | max |\n|---|---|---|---|---|",
        ops / 1000
    );
    for mut c in structural {
        c.ms.sort_by(f64::total_cmp);
        println!(
            "| {} | {} | {:.2} ms | {:.2} ms | {:.1} ms |",
            c.name,
            c.ms.len(),
            percentile(&c.ms, 0.5),
            percentile(&c.ms, 0.95),
            c.ms[c.ms.len() - 1]
        );
    }
    println!();
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut mil = "target/release/mil".to_string();
    let mut sizes = Vec::new();
    let mut pace = Duration::from_millis(50);
    let mut undo = true;
    let mut structural = 40;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mil" => mil = args.next().expect("--mil PATH"),
            "--pace" => {
                pace = Duration::from_millis(args.next().and_then(|n| n.parse().ok()).expect("--pace MS"))
            }
            "--no-undo" => undo = false,
            "--structural" => structural = args.next().and_then(|n| n.parse().ok()).expect("--structural N"),
            "--text" => {
                let ops = args.next().and_then(|n| n.parse().ok()).expect("--text OPS");
                print!("{}", ConvChain::with_ops(ops).text());
                return;
            }
            n => sizes.push(n.parse::<usize>().expect("an op count")),
        }
    }
    if sizes.is_empty() {
        sizes = vec![16_000, 160_000];
    }
    for ops in sizes {
        run(&mil, ops, pace, undo, structural);
    }
}
