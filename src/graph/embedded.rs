//! The embedded (in-memory) graph store: the default, and what the plugin uses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Edge, EdgeKind, GraphStore, NodeData, NodeId, NodeKind, SigMeta};

/// FNV-1a: node ids are short strings from our own input, so a fast non-keyed hash
/// is safe here, and lookups dominate the analyses' time.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[derive(Debug, Default)]
pub struct EmbeddedStore {
    ids: Vec<NodeId>,
    data: Vec<NodeData>,
    index: FnvMap<NodeId, usize>,
    edges: Vec<(usize, usize, Edge)>,
    out: Vec<Vec<usize>>,
    inbound: Vec<Vec<usize>>,
    /// SENDS edge per (from, to), so repeated flows add up instead of multiplying edges.
    sends: FnvMap<(usize, usize), usize>,
    meta: SigMeta,
}

impl EmbeddedStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with room for about `nodes` nodes and `edges` edges, so a large build
    /// does not rehash and copy its tables as it grows.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Self {
            ids: Vec::with_capacity(nodes),
            data: Vec::with_capacity(nodes),
            index: FnvMap::with_capacity_and_hasher(nodes, Default::default()),
            edges: Vec::with_capacity(edges),
            out: Vec::with_capacity(nodes),
            inbound: Vec::with_capacity(nodes),
            ..Self::default()
        }
    }

    /// Index of a node. Analyses mostly pass back ids this store handed out, which sit
    /// in `ids`: their index follows from the address, with no hashing of strings.
    fn index_of(&self, id: &NodeId) -> Option<usize> {
        let start = self.ids.as_ptr() as usize;
        let addr = std::ptr::from_ref(id) as usize;
        let size = std::mem::size_of::<NodeId>();
        if addr >= start && addr < start + self.ids.len() * size {
            return Some((addr - start) / size);
        }
        self.index.get(id).copied()
    }
}

impl GraphStore for EmbeddedStore {
    fn meta(&self) -> &SigMeta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut SigMeta {
        &mut self.meta
    }

    fn upsert_node(&mut self, id: NodeId, data: NodeData) {
        if let Some(&i) = self.index.get(&id) {
            self.data[i] = data;
            return;
        }
        let i = self.ids.len();
        self.index.insert(id.clone(), i);
        self.ids.push(id);
        self.data.push(data);
        self.out.push(Vec::new());
        self.inbound.push(Vec::new());
    }

    fn add_edge(&mut self, from: &NodeId, to: &NodeId, edge: Edge) -> bool {
        let (Some(a), Some(b)) = (self.index_of(from), self.index_of(to)) else {
            return false;
        };
        if let Edge::Sends { bytes, .. } = edge {
            if let Some(&e) = self.sends.get(&(a, b)) {
                if let Edge::Sends { bytes: total, .. } = &mut self.edges[e].2 {
                    // Readers reject impossible counts; saturating keeps hostile input from
                    // panicking where a sum of plausible ones would never get near 2^64.
                    *total = total.saturating_add(bytes);
                }
                return true;
            }
            self.sends.insert((a, b), self.edges.len());
        }
        let e = self.edges.len();
        self.edges.push((a, b, edge));
        self.out[a].push(e);
        self.inbound[b].push(e);
        true
    }

    fn node(&self, id: &NodeId) -> Option<&NodeData> {
        self.index_of(id).map(|i| &self.data[i])
    }

    fn nodes_of(&self, kind: NodeKind) -> Vec<(&NodeId, &NodeData)> {
        self.ids
            .iter()
            .zip(&self.data)
            .filter(|(id, _)| id.kind() == kind)
            .collect()
    }

    fn out_edges(&self, id: &NodeId, kind: EdgeKind) -> Vec<(&NodeId, &Edge)> {
        let Some(i) = self.index_of(id) else {
            return Vec::new();
        };
        self.out[i]
            .iter()
            .map(|&e| &self.edges[e])
            .filter(|(_, _, edge)| edge.kind() == kind)
            .map(|(_, b, edge)| (&self.ids[*b], edge))
            .collect()
    }

    fn in_edges(&self, id: &NodeId, kind: EdgeKind) -> Vec<(&NodeId, &Edge)> {
        let Some(i) = self.index_of(id) else {
            return Vec::new();
        };
        self.inbound[i]
            .iter()
            .map(|&e| &self.edges[e])
            .filter(|(_, _, edge)| edge.kind() == kind)
            .map(|(a, _, edge)| (&self.ids[*a], edge))
            .collect()
    }

    fn node_count(&self) -> usize {
        self.ids.len()
    }

    fn edge_count(&self) -> usize {
        self.edges.len()
    }
}
