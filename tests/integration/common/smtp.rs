//! A small SMTP sink on loopback: accepts every message and keeps it for the test to read, or,
//! while it is "down", turns every connection and command away with 421 as a server shutting
//! down does. It does not offer SMTPUTF8. A recipient whose local part is `refused` gets a
//! permanent 550, one whose local part is `busy` a temporary 451 (RFC 5321 §4.2.1).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
}

#[derive(Clone, Debug)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: String,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink { port: listener.local_addr().unwrap().port(), ..Default::default() };
        let (messages, down) = (sink.messages.clone(), sink.down.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (messages, down) = (messages.clone(), down.clone());
                tokio::spawn(async move {
                    let _ = session(socket, messages, down).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    /// Takes the server down (every connection and command answered 421) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

const GOING_DOWN: &[u8] = b"421 4.3.2 sink going down\r\n";

async fn session(
    socket: tokio::net::TcpStream,
    messages: Arc<Mutex<Vec<Received>>>,
    down: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    if down.load(Ordering::SeqCst) {
        return write.write_all(GOING_DOWN).await;
    }
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if down.load(Ordering::SeqCst) {
            return write.write_all(GOING_DOWN).await;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            let address = line[8..].trim().trim_matches(['<', '>']).to_string();
            match address.split('@').next() {
                Some("refused") => write.write_all(b"550 5.1.1 no such mailbox\r\n").await?,
                Some("busy") => write.write_all(b"451 4.3.0 mailbox busy, try later\r\n").await?,
                _ => {
                    rcpt_to.push(address);
                    write.write_all(b"250 OK\r\n").await?;
                }
            }
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            if down.load(Ordering::SeqCst) {
                return write.write_all(GOING_DOWN).await;
            }
            messages.lock().unwrap().push(Received { rcpt_to: std::mem::take(&mut rcpt_to), data });
            write.write_all(b"250 queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            // HELO, MAIL FROM, RSET, NOOP: all fine.
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}

impl Received {
    /// The message source with quoted-printable soft line breaks and `=3D` undone.
    pub fn decoded(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    /// The token of the first `/register/…` link in the message.
    pub fn registration_token(&self) -> Option<String> {
        let text = self.decoded();
        let start = text.find("/register/")? + "/register/".len();
        Some(text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
    }

    /// The Message-ID header's value.
    pub fn message_id(&self) -> Option<String> {
        let line = self.data.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:"))?;
        Some(line["message-id:".len()..].trim().to_string())
    }

    /// The six-digit code in a code email's subject.
    pub fn code(&self) -> Option<String> {
        let text = self.decoded();
        let after = &text[text.find("Your Onboard code for ")?..];
        let start = after.find(" is ")? + " is ".len();
        Some(after[start..start + 6].to_string())
    }
}

impl SmtpSink {
    /// Messages to one address, oldest first.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages().into_iter().filter(|m| m.rcpt_to.iter().any(|r| r == address)).collect()
    }
}
