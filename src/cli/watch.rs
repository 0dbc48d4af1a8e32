//! `sky-takeout watch`: a terminal merchant screen. Logs in like the stock admin page (the
//! session cookie), opens `/ws/{sid}` and prints every frame exactly as received, one per
//! line, until the server closes the socket.

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Logs in at `base` (`http://host:port`) and prints the frames of `/ws/{sid}`.
pub async fn run(base: &str, username: &str, password: &str) -> anyhow::Result<()> {
    crate::payment::wechat_api::install_crypto_provider();
    let base = base.trim_end_matches('/');
    let resp = reqwest::Client::new()
        .post(format!("{base}/admin/employee/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await?;
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sky_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string);
    let reply: serde_json::Value = resp.json().await?;
    let Some(cookie) = cookie else {
        anyhow::bail!(
            "login refused: {}",
            reply["msg"].as_str().unwrap_or("no session cookie")
        );
    };
    let ws_base = base.replacen("http", "ws", 1);
    let sid = crate::auth::random_string(12);
    let mut req = format!("{ws_base}/ws/{sid}").into_client_request()?;
    req.headers_mut()
        .insert("cookie", HeaderValue::from_str(&cookie)?);
    req.headers_mut()
        .insert("origin", HeaderValue::from_str(base)?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    eprintln!("watching {ws_base}/ws/{sid} (Ctrl-C to stop)");
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => println!("{t}"),
            Message::Close(f) => {
                eprintln!(
                    "closed: {}",
                    f.map(|f| format!("{} {}", f.code, f.reason))
                        .unwrap_or_default()
                );
                break;
            }
            _ => {}
        }
    }
    Ok(())
}
