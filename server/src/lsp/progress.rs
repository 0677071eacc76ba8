//! Work-done progress of a long command (`mil.compile`, `mil.run`, `mil.w8a8`): begun only when
//! the client accepts its token (`window/workDoneProgress/create`), and silent otherwise.

use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};
use tower_lsp_server::{Bounded, Client, NotCancellable, OngoingProgress, Progress, Unbounded};

/// One command's progress; `B` is [`Unbounded`] (a message only) or [`Bounded`] (a percentage).
pub struct Work<B>(Option<OngoingProgress<B, NotCancellable>>);

impl Work<Unbounded> {
    /// Begins `title` with `message` under the token `token`.
    pub async fn begin(client: &Client, token: String, title: &str, message: impl Into<String>) -> Self {
        Work::start(client, token, title, |p| p.with_message(message)).await
    }
}

impl Work<Bounded> {
    /// Begins `title` at 0 % with `message` under the token `token`.
    pub async fn begin_bounded(
        client: &Client,
        token: String,
        title: &str,
        message: impl Into<String>,
    ) -> Self {
        Work::start(client, token, title, |p| {
            p.with_message(message).with_percentage(0)
        })
        .await
    }

    /// Reports `message` at `percentage`.
    pub async fn report(&self, message: String, percentage: u32) {
        if let Some(p) = &self.0 {
            p.report_with_message(message, percentage).await;
        }
    }
}

impl<B> Work<B> {
    /// Asks the client to create `token`; when it does, begins the progress `shape` makes of
    /// `title`'s.
    async fn start(
        client: &Client,
        token: String,
        title: &str,
        shape: impl FnOnce(Progress) -> Progress<B>,
    ) -> Self {
        let token = ProgressToken::from(NumberOrString::String(token));
        if client.create_work_done_progress(token.clone()).await.is_err() {
            return Work(None);
        }
        Work(Some(shape(client.progress(token, title)).begin().await))
    }

    /// Ends the progress with `message`.
    pub async fn finish(self, message: &str) {
        if let Some(p) = self.0 {
            p.finish_with_message(message).await;
        }
    }
}
