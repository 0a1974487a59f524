//! The clocks: one task moves the sandbox's (and the compare view's) virtual time every 50 ms
//! at the chosen speed, another every scenario run's, and re-reads an instructor's folder.

use std::sync::Arc;
use std::time::Duration;

use crate::AppState;
use crate::scenario_ui::Slot;

/// Starts the clock driver for `state`.
pub fn spawn_driver(state: AppState) -> tokio::task::JoinHandle<()> {
    spawn_scenarios_driver(state.clone());
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(50));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = tokio::time::Instant::now();
        let mut seen: Key = (0, 0, 0, String::new());
        let trim = Arc::new(std::sync::Mutex::new(crate::memory::Trim::default()));
        loop {
            interval.tick().await;
            let now = tokio::time::Instant::now();
            // A long pause (a slow request, a suspended laptop) is not a jump in virtual time.
            let wall = (now - last).min(Duration::from_millis(250));
            last = now;
            // The cluster's work runs on a blocking thread, so the async workers keep
            // answering (`/healthz`, pages, streams) while a heavy slice holds the lock.
            let st = state.clone();
            let trim = trim.clone();
            let Ok(key) = tokio::task::spawn_blocking(move || {
                let (key, pods) = tick_sandboxes(&st, wall);
                trim_after_burst(&trim, pods);
                key
            })
            .await
            else {
                continue;
            };
            if key != seen {
                seen = key;
                state.notify();
            }
        }
    })
}

/// Gives the memory of a burst of pods back once most of them (and their events) are gone
/// ([`crate::memory`]), outside every cluster's lock.
fn trim_after_burst(trim: &std::sync::Mutex<crate::memory::Trim>, objects: usize) {
    let now = trim
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .observe(objects);
    if now {
        crate::memory::release_freed_memory();
    }
}

/// What the page shows of the clocks: a key that changes when they moved.
type Key = (u64, u64, usize, String);

/// Moves the sandbox's and the compare view's clocks by `wall`; what the page shows of them,
/// and how many pods and events the sandbox holds.
fn tick_sandboxes(state: &AppState, wall: Duration) -> (Key, usize) {
    let (key, pods) = {
        let mut sb = state.sb();
        sb.tick(wall, SLICE);
        (
            (
                sb.sim.now().millis(),
                sb.sim.store.resource_version(),
                sb.actions.len(),
                sb.speed.label(),
            ),
            sb.sim.store.pods.len() + sb.sim.store.events.len(),
        )
    };
    let mut c = state.cmp();
    let key = match c.as_mut() {
        Some(c) => {
            c.tick(wall, SLICE);
            (
                key.0 ^ (c.sides[0].sim.now().millis() << 20),
                key.1 ^ c.sides[1].sim.store.resource_version(),
                key.2,
                key.3,
            )
        }
        None => key,
    };
    (key, pods)
}

/// The wall time one tick may spend on a cluster (ticks are 50 ms apart).
const SLICE: Duration = Duration::from_millis(40);

/// Starts the task that moves every run's clock (every 50 ms) and, for a folder, re-reads
/// it when a file changes (every second).
fn spawn_scenarios_driver(st: AppState) -> tokio::task::JoinHandle<()> {
    let sc = st.scenarios.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(50));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = tokio::time::Instant::now();
        let mut ticks = 0u64;
        let trim = Arc::new(std::sync::Mutex::new(crate::memory::Trim::default()));
        loop {
            interval.tick().await;
            let now = tokio::time::Instant::now();
            let wall = (now - last).min(Duration::from_millis(250));
            last = now;
            let slots: Vec<Arc<Slot>> = sc.runs().values().cloned().collect();
            let budget = SLICE / slots.len().max(1) as u32;
            let every_quarter = ticks.is_multiple_of(5);
            let trim = trim.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let mut pods = 0;
                for slot in slots {
                    let changed = {
                        let mut run = slot.lock();
                        let before = (
                            run.session.sim.now(),
                            run.session.sim.store.resource_version(),
                        );
                        run.tick(wall, budget);
                        let rv = run.session.sim.store.resource_version();
                        // Checks look at the whole cluster: after a change, or four times
                        // a second as time passes (history and traffic windows move with it).
                        if rv != before.1 || every_quarter {
                            run.evaluate();
                        }
                        pods +=
                            run.session.sim.store.pods.len() + run.session.sim.store.events.len();
                        before != (run.session.sim.now(), rv)
                    };
                    if changed {
                        slot.notify();
                    }
                }
                trim_after_burst(&trim, pods);
            })
            .await;
            ticks += 1;
            if ticks.is_multiple_of(20) {
                // Once a second: students' progress to disk, and the instructor's folder.
                let sc3 = sc.clone();
                let _ = tokio::task::spawn_blocking(move || sc3.save_progress()).await;
                let sc2 = sc.clone();
                let reloaded = tokio::task::spawn_blocking(move || sc2.rescan())
                    .await
                    .unwrap_or(false);
                if reloaded {
                    // Pages show a notice when their file changed.
                    let slots: Vec<Arc<Slot>> = sc.runs().values().cloned().collect();
                    for s in slots {
                        s.notify();
                    }
                }
            }
        }
    })
}
