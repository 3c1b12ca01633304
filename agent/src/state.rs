//! What the drain loop, the Kubernetes watches and the HTTP API share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::flows::{Classifier, FlowTable, PodMeta};
use crate::kernel::KernelStats;

/// The agent's own health, for /metrics.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub map_entries: usize,
    pub map_capacity: u32,
    pub kernel: KernelStats,
    pub drains: u64,
    pub last_drain_seconds: f64,
    /// Unix seconds of the last drain: the end of the /flows window.
    pub last_drain_end: i64,
    pub recreated_total: u64,
    pub drain_errors: u64,
    pub unknown_cgroups: usize,
    /// Drains that could not read the conntrack table.
    pub conntrack_errors: u64,
    /// Pods of this node (from the API) whose cgroup is not on the node.
    pub pods_without_cgroup: usize,
}

impl Health {
    /// Entries the LRU evicted: every entry ever created that is no longer there. User
    /// space never deletes entries, so this is exact up to entries created mid-read.
    pub fn evictions(&self) -> u64 {
        self.kernel.inserts.saturating_sub(self.map_entries as u64)
    }
}

#[derive(Debug)]
pub struct Shared {
    pub table: Mutex<FlowTable>,
    pub classifier: RwLock<Classifier>,
    pub pods: RwLock<HashMap<String, PodMeta>>,
    pub health: Mutex<Health>,
    pub attached: AtomicBool,
    pub pods_synced: AtomicBool,
    pub standalone: bool,
    /// Unix seconds when the pinned counters were created: the /flows window start.
    pub first_start: u64,
}

impl Shared {
    pub fn ready(&self) -> bool {
        self.attached.load(Ordering::Acquire)
            && (self.standalone || self.pods_synced.load(Ordering::Acquire))
    }
}

// A panicking holder cannot leave these maps half-updated in a way that matters more
// than stopping the agent would, so keep serving from a poisoned lock.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

pub fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}
