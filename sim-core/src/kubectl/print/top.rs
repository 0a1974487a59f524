//! `kubectl top pod|node` tables: a port of `kubectl/pkg/metricsutil/metrics_printer.go`
//! (`PrintPodMetrics`, `PrintNodeMetrics`): CPU as whole millicores (`MilliValue`, rounded
//! up), memory in whole MiB, percentages of the node's allocatable. Every cell is written
//! with a trailing tab, so every line ends padded, as kubectl's tabwriter leaves it.

use super::table::GET;

/// One pod's metrics: namespace, name, and per container (name, nanocores, bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct PodTop {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// Containers: name, CPU nanocores, memory bytes.
    pub containers: Vec<(String, u64, u64)>,
}

/// One node's metrics (`None`: none yet) and allocatable (millicores, bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTop {
    /// Node name.
    pub name: String,
    /// CPU nanocores and memory bytes.
    pub usage: Option<(u64, u64)>,
    /// Allocatable CPU (millicores) and memory (bytes).
    pub allocatable: (i64, i64),
}

fn milli(nanocores: u64) -> u64 {
    nanocores.div_ceil(1_000_000)
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

fn line(cells: &[String]) -> String {
    let mut s = String::new();
    for c in cells {
        s.push_str(c);
        s.push('\t');
    }
    s.push('\n');
    s
}

/// `PrintPodMetrics`.
pub fn top_pods(
    pods: &[PodTop],
    all_namespaces: bool,
    containers: bool,
    no_headers: bool,
) -> String {
    let mut text = String::new();
    if !no_headers {
        let mut h: Vec<String> = Vec::new();
        if all_namespaces {
            h.push("NAMESPACE".into());
        }
        if containers {
            h.push("POD".into());
        }
        h.extend(["NAME", "CPU(cores)", "MEMORY(bytes)"].map(String::from));
        text.push_str(&line(&h));
    }
    for p in pods {
        if containers {
            for (c, cpu, mem) in &p.containers {
                let mut cells = Vec::new();
                if all_namespaces {
                    cells.push(p.namespace.clone());
                }
                cells.push(p.name.clone());
                cells.push(c.clone());
                cells.push(format!("{}m", milli(*cpu)));
                cells.push(format!("{}Mi", mib(*mem)));
                text.push_str(&line(&cells));
            }
        } else {
            let cpu: u64 = p.containers.iter().map(|c| c.1).sum();
            let mem: u64 = p.containers.iter().map(|c| c.2).sum();
            let mut cells = Vec::new();
            if all_namespaces {
                cells.push(p.namespace.clone());
            }
            cells.push(p.name.clone());
            cells.push(format!("{}m", milli(cpu)));
            cells.push(format!("{}Mi", mib(mem)));
            text.push_str(&line(&cells));
        }
    }
    GET.format(&text)
}

/// `PrintNodeMetrics`: nodes with metrics, then those without as `<unknown>`.
pub fn top_nodes(nodes: &[NodeTop], no_headers: bool) -> String {
    let mut text = String::new();
    if !no_headers {
        text.push_str(&line(
            &["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"].map(String::from),
        ));
    }
    for n in nodes.iter().filter(|n| n.usage.is_some()) {
        let (cpu, mem) = n.usage.unwrap_or_default();
        let cpu_pct = milli(cpu) as f64 / n.allocatable.0.max(1) as f64 * 100.0;
        let mem_pct = mem as f64 / n.allocatable.1.max(1) as f64 * 100.0;
        text.push_str(&line(&[
            n.name.clone(),
            format!("{}m", milli(cpu)),
            format!("{}%", cpu_pct as i64),
            format!("{}Mi", mib(mem)),
            format!("{}%", mem_pct as i64),
        ]));
    }
    for n in nodes.iter().filter(|n| n.usage.is_none()) {
        let u = "<unknown>".to_string();
        text.push_str(&line(&[n.name.clone(), u.clone(), u.clone(), u.clone(), u]));
    }
    GET.format(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_and_containers_print_as_kubectl_top() {
        let pods = [PodTop {
            namespace: "default".into(),
            name: "web-1".into(),
            containers: vec![
                ("api".into(), 425_300_000, 12 << 20),
                ("side".into(), 1_000_000, 8 << 20),
            ],
        }];
        assert_eq!(
            top_pods(&pods, false, false, false),
            "NAME    CPU(cores)   MEMORY(bytes)   \nweb-1   427m         20Mi            \n"
        );
        assert_eq!(
            top_pods(&pods, true, true, false),
            "NAMESPACE   POD     NAME   CPU(cores)   MEMORY(bytes)   \ndefault     web-1   api    426m         12Mi            \ndefault     web-1   side   1m           8Mi             \n"
        );
        let nodes = [
            NodeTop {
                name: "node-1".into(),
                usage: Some((500_000_000, 1 << 30)),
                allocatable: (4000, 16 << 30),
            },
            NodeTop {
                name: "node-2".into(),
                usage: None,
                allocatable: (4000, 16 << 30),
            },
        ];
        assert_eq!(
            top_nodes(&nodes, false),
            "NAME     CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)   \nnode-1   500m         12%         1024Mi          6%          \nnode-2   <unknown>    <unknown>   <unknown>       <unknown>   \n"
        );
    }
}
