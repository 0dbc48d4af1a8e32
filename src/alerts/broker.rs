//! Brokers carry published events to the hubs of every instance. The memory broker is the
//! one-process case: it hands events straight to this instance's hub.

use tokio::sync::mpsc;

use super::hub::Ingest;
use super::model::Event;

/// The broker chosen by `--broker`.
#[derive(Clone)]
pub enum Broker {
    /// In-process: publish = hand to the local hub.
    Memory {
        /// The local hub's ingest queue.
        ingest: mpsc::Sender<Ingest>,
    },
}

impl Broker {
    /// Publishes an event to every instance watching its shop. Waits when the local hub is
    /// behind, which slows only the relay (payments never wait on it).
    pub async fn publish(&self, event: Event) {
        match self {
            Broker::Memory { ingest } => {
                let _ = ingest.send(Ingest::Event(event)).await;
            }
        }
    }
}
