//! Segmentation: the cheapest device per op, the way Core ML's E5 planner chooses.
//!
//! Ops are taken in program order. Each has an estimate per candidate device; moving from one
//! device to another costs a switch charge, starting a Neural Engine (or GPU) segment a launch
//! charge, and every function output produced on the Neural Engine an output charge (Core ML
//! charges 0.125 ms for each, `Launch_ane_ms` and `Src_*_Dest_*_ms` in its analytics files). The
//! plan is the shortest path through (op, device) states, found by dynamic programming in both
//! directions, so that the best total with any one op forced onto any device is known too: that is
//! how a "moved" op's reason is priced.

use crate::device::Device;

/// The fixed charges of the planner, in ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Charges {
    /// Starting a Neural Engine segment.
    pub ane_launch_ms: f64,
    /// Starting a GPU segment (no data: assumed equal to the ANE's).
    pub gpu_launch_ms: f64,
    /// Moving data from one device to another.
    pub switch_ms: f64,
    /// A function output produced on the Neural Engine.
    pub ane_output_ms: f64,
}

impl Default for Charges {
    /// 0.125 ms each, as every analytics file in the corpus states.
    fn default() -> Charges {
        Charges {
            ane_launch_ms: 0.125,
            gpu_launch_ms: 0.125,
            switch_ms: 0.125,
            ane_output_ms: 0.125,
        }
    }
}

impl Charges {
    fn launch(&self, d: Device) -> f64 {
        match d {
            Device::Ane => self.ane_launch_ms,
            Device::Gpu => self.gpu_launch_ms,
            Device::Cpu => 0.0,
        }
    }

    /// The charge for running `to` right after `from`, by `[from][to]` index.
    fn transitions(&self) -> [[f64; 3]; 3] {
        Device::ALL.map(|from| {
            Device::ALL.map(|to| {
                if from == to {
                    0.0
                } else {
                    self.switch_ms + self.launch(to)
                }
            })
        })
    }

    /// What `node` costs on each device, its output charge included (infinite where it cannot run).
    fn own(&self, node: &Node) -> [f64; 3] {
        Device::ALL.map(|d| match node.ms[d.index()] {
            Some(ms) if d == Device::Ane => ms + f64::from(node.outputs) * self.ane_output_ms,
            Some(ms) => ms,
            None => f64::INFINITY,
        })
    }
}

/// One op to place: its estimate per device (`None` where it cannot run) and how many function
/// outputs it produces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    /// ms per device, indexed by [`Device::index`].
    pub ms: [Option<f64>; 3],
    /// Function outputs among its results.
    pub outputs: u32,
}

/// The chosen devices and what the alternatives would cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The device of each node.
    pub devices: Vec<Device>,
    /// The total estimated time, charges included, in ms.
    pub total_ms: f64,
    /// Per node and device, the best total with that node forced onto that device (infinite
    /// where it cannot run).
    pub forced_ms: Vec<[f64; 3]>,
}

/// The order in which ties are broken: Core ML's planner breaks exact ties (a relu priced the same
/// everywhere, before an output whose charge equals the switch charge) one way or the other by
/// rounding; in the corpus it keeps the Neural Engine 31 times out of 43, so do we.
const TIE_ORDER: [Device; 3] = [Device::Ane, Device::Gpu, Device::Cpu];

/// The cheapest assignment of devices to `nodes`; ties go to the Neural Engine.
pub fn plan(nodes: &[Node], charges: &Charges) -> Plan {
    let n = nodes.len();
    let switch = charges.transitions();
    // The best total of the nodes up to each one, ending on each device.
    let mut fwd: Vec<[f64; 3]> = Vec::with_capacity(n);
    for node in nodes {
        let own = charges.own(node);
        let before = match fwd.last() {
            None => Device::ALL.map(|d| charges.launch(d)),
            Some(prev) => Device::ALL.map(|d| {
                Device::ALL
                    .iter()
                    .map(|&p| prev[p.index()] + switch[p.index()][d.index()])
                    .fold(f64::INFINITY, f64::min)
            }),
        };
        fwd.push(Device::ALL.map(|d| own[d.index()] + before[d.index()]));
    }
    let mut devices = vec![Device::Cpu; n];
    let mut total_ms = 0.0;
    if n > 0 {
        let last = cheapest(|d| fwd[n - 1][d.index()]);
        total_ms = fwd[n - 1][last.index()];
        devices[n - 1] = last;
        for i in (1..n).rev() {
            let next = devices[i].index();
            devices[i - 1] = cheapest(|p| fwd[i - 1][p.index()] + switch[p.index()][next]);
        }
    }
    // Backward: the best total from node i on device d to the end, one node at a time; with the
    // forward total it prices node i forced onto d, written over the forward totals.
    let mut forced_ms = fwd;
    let mut after_next = [0.0; 3];
    for (i, (node, forced)) in nodes.iter().zip(&mut forced_ms).enumerate().rev() {
        let own = charges.own(node);
        let mut bwd = [f64::INFINITY; 3];
        for d in Device::ALL {
            let after = if i + 1 == n {
                0.0
            } else {
                Device::ALL
                    .iter()
                    .map(|&s| switch[d.index()][s.index()] + after_next[s.index()])
                    .fold(f64::INFINITY, f64::min)
            };
            let ms = own[d.index()];
            bwd[d.index()] = ms + after;
            let slot = &mut forced[d.index()];
            *slot = if ms.is_finite() {
                *slot + bwd[d.index()] - ms
            } else {
                f64::INFINITY
            };
        }
        after_next = bwd;
    }
    Plan {
        devices,
        total_ms,
        forced_ms,
    }
}

/// The device with the lowest cost; a tie (within rounding) goes to the earlier in [`TIE_ORDER`].
fn cheapest(cost: impl Fn(Device) -> f64) -> Device {
    let mut best = TIE_ORDER[0];
    for d in TIE_ORDER {
        let (c, b) = (cost(d), cost(best));
        if c < b && (b.is_infinite() || c < b - 1e-9 * b.abs().max(1.0)) {
            best = d;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(cpu: f64, ane: Option<f64>) -> Node {
        Node {
            ms: [Some(cpu), None, ane],
            outputs: 0,
        }
    }

    #[test]
    fn an_isolated_cheap_ane_op_stays_on_the_cpu() {
        let nodes = [node(0.01, None), node(0.02, Some(0.001)), node(0.01, None)];
        let p = plan(&nodes, &Charges::default());
        assert_eq!(p.devices, vec![Device::Cpu; 3]);
        assert!((p.total_ms - 0.04).abs() < 1e-12);
        // Forcing the middle op onto the ANE costs a launch and two switches for a 0.019 ms saving.
        assert!((p.forced_ms[1][Device::Ane.index()] - (0.021 + 0.375)).abs() < 1e-12);
    }

    #[test]
    fn expensive_work_goes_to_the_ane_and_the_output_charge_counts() {
        let mut nodes = [node(0.4, Some(0.01)), node(0.4, Some(0.01))];
        let p = plan(&nodes, &Charges::default());
        assert_eq!(p.devices, vec![Device::Ane; 2]);
        assert!((p.total_ms - 0.145).abs() < 1e-12);
        nodes[1].outputs = 1;
        let p = plan(&nodes, &Charges::default());
        assert!((p.total_ms - 0.27).abs() < 1e-12);
    }
}
