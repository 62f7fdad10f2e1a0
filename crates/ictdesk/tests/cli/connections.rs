//! Connections that never send anything (issue 9 point 6) and proxies nobody said to
//! trust (issue 18 point 7), against the real binary.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Stdio,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpSocket, TcpStream},
    process::Child,
};

use crate::process::{PATIENCE, wait_for_addr};

/// `ictdesk hub` on a fresh database in `dir` with `args`, its descriptors limited to
/// `descriptors` (as a small `LimitNOFILE` would); its log is on `stdout` if `log`.
fn start_hub(dir: &std::path::Path, descriptors: u32, args: &[&str], log: bool) -> Child {
    let binary = env!("CARGO_BIN_EXE_ictdesk");
    tokio::process::Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -n {descriptors} && exec \"$0\" \"$@\""))
        .arg(binary)
        .args(["hub", "--port", "0", "--addr-file"])
        .arg(dir.join("addr"))
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("hub.db").display()))
        .args(args)
        .env_remove("WEBSOCKET_PORT")
        .env_remove("WEBSOCKET_HOST")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(if log { Stdio::piped() } else { Stdio::null() })
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start ictdesk hub")
}

/// A connection from the loopback address `127.0.0.{host}`.
async fn connect_from(host: u8, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)),
        0,
    ))?;
    socket.connect(addr).await
}

/// Reads until the server closes the connection; panics if it keeps it open.
async fn closed_by_server(stream: &mut TcpStream) {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        while let Ok(read) = stream.read(&mut buffer).await {
            if read == 0 {
                return;
            }
        }
    })
    .await
    .expect("the server closes the connection");
}

async fn get_test(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /test HTTP/1.1\r\nHost: hub\r\n\r\n")
        .await
        .expect("sent");
    let mut buffer = vec![0u8; 4096];
    let read = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
        .await
        .expect("an answer in time")
        .expect("read");
    String::from_utf8_lossy(&buffer[..read]).into_owned()
}

#[tokio::test]
async fn silent_sockets_from_one_address_do_not_stop_the_server_answering_others() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let args = [
        "--max-http-connections-per-ip",
        "64",
        "--header-timeout",
        "2",
    ];
    let _hub = start_hub(dir.path(), 256, &args, false);
    let addr = wait_for_addr(&dir.path().join("addr")).await;

    // More silent connections than the server has descriptors.
    let mut silent = Vec::new();
    for _ in 0..400 {
        silent.push(connect_from(2, addr).await.expect("connects"));
    }
    let mut other = connect_from(1, addr).await.expect("connects");
    let answer = get_test(&mut other).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // The silent ones are closed: those past the cap at once, the rest when their
    // headers do not come.
    for stream in silent.iter_mut() {
        closed_by_server(stream).await;
    }
    // And a kept-alive connection that goes quiet after its answer, too.
    closed_by_server(&mut other).await;
}

#[tokio::test]
async fn forwarded_requests_from_an_untrusted_proxy_are_warned_about() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut hub = start_hub(dir.path(), 1024, &[], true);
    let addr = wait_for_addr(&dir.path().join("addr")).await;
    let log = hub.stdout.take().expect("the log on stdout");
    reqwest::Client::new()
        .get(format!("http://{addr}/test"))
        .header("X-Forwarded-For", "198.51.100.4")
        .send()
        .await
        .expect("an answer");
    let mut lines = BufReader::new(log).lines();
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("ICTDESK_TRUSTED_PROXIES=127.0.0.1/32") {
                return;
            }
        }
        panic!("the log ended without the warning");
    })
    .await
    .expect("the warning comes in time");
}
