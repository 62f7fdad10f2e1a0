//! Supervised background work. Every long-running task of a node (the tailer and its
//! fan-out, the cluster heartbeat, the presence relay, the application's listeners,
//! retention…) runs under one [`Supervisor`]: when it panics or returns an error, the
//! failure is logged at error level with the task's name, and the task is started again
//! after a backoff that doubles up to [`MAX_BACKOFF`]. While a task waits to be
//! restarted it is *down*, and `/healthz` answers 503 naming it, so that a load balancer
//! stops sending clients to a node that would not deliver to them.
//!
//! A task is a closure that makes a fresh future for each run; whatever must survive a
//! restart (the tailer's progress, say) lives outside that future. A task that returns
//! `Ok(())` has finished for good — normally because the hub is shutting down.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Why a run of a task failed. Any error converts into it with `?`.
pub type TaskError = Box<dyn std::error::Error + Send + Sync>;

/// The wait before the first restart…
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// …doubling up to this. Kept short: the tailer is supervised too, and events wait
/// for it after the database comes back.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The supervisor of one hub's background tasks: cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

struct Shared {
    tasks: Mutex<BTreeMap<&'static str, TaskStatus>>,
    /// The hub's shutdown: no restarts after it.
    stop: CancellationToken,
    #[cfg(feature = "fault-injection")]
    faults: faults::Faults,
}

/// How a task is doing, as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskStatus {
    pub state: TaskState,
    /// Times it was started again after a failure.
    pub restarts: u64,
    /// The last failure, panic message or error, if any.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Running,
    /// Failed; waiting for its restart.
    Down,
    /// Returned `Ok(())`: done for good.
    Finished,
}

impl Supervisor {
    /// A supervisor that stops restarting tasks once `stop` is cancelled.
    pub fn new(stop: CancellationToken) -> Self {
        Self {
            shared: Arc::new(Shared {
                tasks: Mutex::new(BTreeMap::new()),
                stop,
                #[cfg(feature = "fault-injection")]
                faults: faults::Faults::default(),
            }),
        }
    }

    /// Runs `task()` in the background, under `name`, starting it again whenever a run
    /// panics or fails. Names are unique per hub (a second task under a taken name
    /// replaces the first one's status, not the task).
    pub fn spawn<F, Fut>(&self, name: &'static str, mut task: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        self.set(name, TaskState::Running, None);
        let supervisor = self.clone();
        tokio::spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                let started = Instant::now();
                let run = tokio::spawn(supervisor.instrument(name, task()));
                let failure = match run.await {
                    Ok(Ok(())) => {
                        supervisor.set(name, TaskState::Finished, None);
                        return;
                    }
                    Ok(Err(error)) => error.to_string(),
                    Err(join) if join.is_panic() => panic_message(join.into_panic()),
                    Err(_cancelled) => "cancelled".to_owned(),
                };
                if supervisor.shared.stop.is_cancelled() {
                    supervisor.set(name, TaskState::Finished, Some(failure));
                    return;
                }
                // A task that ran well for a while starts again quickly.
                if started.elapsed() > MAX_BACKOFF {
                    backoff = FIRST_BACKOFF;
                }
                tracing::error!(
                    task = name,
                    error = %failure,
                    "background task '{name}' failed; restarting it in {backoff:?}"
                );
                supervisor.set(name, TaskState::Down, Some(failure));
                tokio::select! {
                    () = supervisor.shared.stop.cancelled() => {
                        supervisor.set(name, TaskState::Finished, None);
                        return;
                    }
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                supervisor.restarted(name);
            }
        });
    }

    /// The tasks that are down now, by name.
    pub fn down(&self) -> Vec<&'static str> {
        self.lock()
            .iter()
            .filter(|(_, status)| status.state == TaskState::Down)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Every task and how it is doing.
    pub fn statuses(&self) -> BTreeMap<&'static str, TaskStatus> {
        self.lock().clone()
    }

    fn set(&self, name: &'static str, state: TaskState, error: Option<String>) {
        let mut tasks = self.lock();
        let status = tasks.entry(name).or_insert(TaskStatus {
            state,
            restarts: 0,
            last_error: None,
        });
        status.state = state;
        if error.is_some() {
            status.last_error = error;
        }
    }

    fn restarted(&self, name: &'static str) {
        if let Some(status) = self.lock().get_mut(name) {
            status.state = TaskState::Running;
            status.restarts += 1;
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, TaskStatus>> {
        self.shared
            .tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(not(feature = "fault-injection"))]
    fn instrument<Fut>(&self, _name: &'static str, run: Fut) -> Fut {
        run
    }
}

/// What a panic said, when it said it with a string (as `panic!` and `expect` do).
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match text {
        Some(text) => format!("panicked: {text}"),
        None => "panicked".to_owned(),
    }
}

/// Faults injected into supervised tasks by tests, to prove that each one is
/// supervised — compiled only with the `fault-injection` feature, which no release
/// build enables.
#[cfg(feature = "fault-injection")]
mod faults {
    use std::collections::BTreeMap;

    use tokio::sync::watch;

    use super::{Supervisor, TaskError};

    /// How an injected fault makes a task's run end.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fault {
        Panic,
        Error,
    }

    /// The armed faults by task name; each run of a task ends with its fault while it
    /// is armed (also a run already under way).
    #[derive(Default)]
    pub(super) struct Faults(watch::Sender<BTreeMap<String, Fault>>);

    impl Supervisor {
        /// Makes every run of `task` fail with `fault` until [`Supervisor::clear_fault`].
        pub fn inject_fault(&self, task: &str, fault: Fault) {
            self.shared.faults.0.send_modify(|armed| {
                armed.insert(task.to_owned(), fault);
            });
        }

        pub fn clear_fault(&self, task: &str) {
            self.shared.faults.0.send_modify(|armed| {
                armed.remove(task);
            });
        }

        pub(super) fn instrument<Fut>(
            &self,
            name: &'static str,
            run: Fut,
        ) -> impl Future<Output = Result<(), TaskError>> + Send + 'static
        where
            Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
        {
            let mut armed = self.shared.faults.0.subscribe();
            async move {
                let fault = armed.wait_for(|faults| faults.contains_key(name));
                tokio::select! {
                    outcome = run => outcome,
                    fault = fault => match fault.map(|faults| faults.get(name).copied()) {
                        Ok(Some(Fault::Panic)) => panic!("fault injected into '{name}'"),
                        _ => Err(format!("fault injected into '{name}'").into()),
                    },
                }
            }
        }
    }
}

#[cfg(feature = "fault-injection")]
pub use faults::Fault;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    async fn until(mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "condition never held");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn a_task_that_panics_is_logged_down_and_restarted() {
        let supervisor = Supervisor::new(CancellationToken::new());
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        supervisor.spawn("flaky", move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 2 {
                    panic!("run {run} broke");
                }
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        until(|| runs.load(Ordering::SeqCst) == 3).await;
        let status = &supervisor.statuses()["flaky"];
        assert_eq!(status.state, TaskState::Running);
        assert_eq!(status.restarts, 2);
        assert_eq!(status.last_error.as_deref(), Some("panicked: run 1 broke"));
        assert!(supervisor.down().is_empty());
    }

    #[tokio::test]
    async fn a_task_that_keeps_failing_stays_down_and_is_named() {
        let supervisor = Supervisor::new(CancellationToken::new());
        supervisor.spawn("broken", || async { Err("no database".into()) });
        supervisor.spawn("fine", || async {
            std::future::pending::<()>().await;
            Ok(())
        });
        until(|| supervisor.down() == ["broken"]).await;
        assert_eq!(
            supervisor.statuses()["broken"].last_error.as_deref(),
            Some("no database")
        );
    }

    #[tokio::test]
    async fn a_finished_task_is_not_restarted() {
        let supervisor = Supervisor::new(CancellationToken::new());
        let runs = Arc::new(AtomicU32::new(0));
        let counted = runs.clone();
        supervisor.spawn("once", move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
        until(|| supervisor.statuses()["once"].state == TaskState::Finished).await;
        tokio::time::sleep(FIRST_BACKOFF * 3).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn nothing_restarts_after_shutdown() {
        let stop = CancellationToken::new();
        let supervisor = Supervisor::new(stop.clone());
        supervisor.spawn("failing", || async { Err("down".into()) });
        until(|| supervisor.down() == ["failing"]).await;
        stop.cancel();
        until(|| supervisor.statuses()["failing"].state == TaskState::Finished).await;
    }

    /// The failure goes to the log at error level, with the task's name as a field.
    #[test]
    fn failures_are_logged_at_error_level_with_the_task_name() {
        use std::io::Write;

        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl Write for Captured {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // A current-thread runtime runs every task on this thread, under this subscriber.
        let _default = tracing::subscriber::set_default(subscriber);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let supervisor = Supervisor::new(CancellationToken::new());
            supervisor.spawn("mailer", || async { Err("SMTP refused".into()) });
            until(|| supervisor.down() == ["mailer"]).await;
        });
        let log = String::from_utf8_lossy(&captured.0.lock().expect("log")).into_owned();
        let line = log
            .lines()
            .find(|line| line.contains("SMTP refused"))
            .unwrap_or_else(|| panic!("no failure logged in:\n{log}"));
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("task=\"mailer\""), "{line}");
    }
}
