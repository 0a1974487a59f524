//! ResourceQuotas and LimitRanges: `kubectl get` columns (`printResourceQuota`,
//! `printLimitRange` in `pkg/printers/internalversion/printers.go`) and `kubectl describe`
//! (`describeQuota`, `describeLimitRange` in kubectl's `describe.go`). Go walks a limit
//! item's resources in map order (random); they are printed sorted here.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota};
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::describe::PrefixWriter;
use super::duration::age;
use super::get::{Column, Row, print_table};
use super::util::s;
use crate::api::quantity::Quantity;
use crate::api::quota::parse_list;

/// `kubectl get resourcequotas`: NAME, AGE, REQUEST, LIMIT; each hard resource as
/// `used/hard`, the `limits.*` ones in LIMIT, the rest in REQUEST.
pub fn get_quotas(quotas: &[ResourceQuota], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Age", false),
        ("Request", false),
        ("Limit", false),
    ];
    let rows = quotas
        .iter()
        .map(|q| {
            let status = q.status.as_ref();
            let used = parse_list(status.and_then(|s| s.used.as_ref()));
            let (mut request, mut limit) = (Vec::new(), Vec::new());
            for (name, hard) in parse_list(status.and_then(|s| s.hard.as_ref())) {
                let used = used
                    .get(&name)
                    .map_or_else(|| "0".into(), ToString::to_string);
                let cell = format!("{name}: {used}/{hard}");
                if name.split('.').next() == Some("limits") && name.contains('.') {
                    limit.push(cell);
                } else {
                    request.push(cell);
                }
            }
            Row {
                meta: &q.metadata,
                cells: vec![
                    s(&q.metadata.name).to_string(),
                    age(q.metadata.creation_timestamp.as_ref(), now),
                    request.join(", "),
                    limit.join(", "),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "resourcequota", opts)
}

/// `kubectl get limitranges`: NAME, CREATED AT (the creation time as RFC 3339).
pub fn get_limit_ranges(ranges: &[LimitRange], opts: &GetOptions, _now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[("Name", false), ("Created At", false)];
    let rows = ranges
        .iter()
        .map(|l| Row {
            meta: &l.metadata,
            cells: vec![
                s(&l.metadata.name).to_string(),
                l.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default(),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "limitrange", opts)
}

/// `helpTextForResourceQuotaScope`.
fn scope_help(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "Terminating" => {
            "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system."
        }
        "NotTerminating" => {
            "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate."
        }
        "BestEffort" => {
            "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service."
        }
        "NotBestEffort" => {
            "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service."
        }
        _ => return None,
    })
}

/// `kubectl describe quota`: Resource, Used, Hard per hard resource (a used value in another
/// suffix family than its hard one is shown as a whole number in the hard one's).
pub fn describe_quota(q: &ResourceQuota) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(&q.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&q.metadata.namespace)));
    let mut scopes: Vec<&str> = q
        .spec
        .iter()
        .flat_map(|s| s.scopes.iter().flatten())
        .map(String::as_str)
        .collect();
    if !scopes.is_empty() {
        scopes.sort_unstable();
        w.write(0, &format!("Scopes:\t{}\n", scopes.join(", ")));
        for sc in scopes {
            if let Some(help) = scope_help(sc) {
                w.write(0, &format!(" * {help}\n"));
            }
        }
    }
    w.write(0, "Resource\tUsed\tHard\n");
    w.write(0, "--------\t----\t----\n");
    let status = q.status.as_ref();
    let used = parse_list(status.and_then(|s| s.used.as_ref()));
    for (name, hard) in parse_list(status.and_then(|s| s.hard.as_ref())) {
        let u = used.get(&name).copied().unwrap_or(Quantity::from_int(0));
        let u = if u.same_format(&hard) {
            u
        } else {
            Quantity::from_int(u.value()).with_format_of(&hard)
        };
        w.write(0, &format!("{name}\t{u}\t{hard}\n"));
    }
    w.finish()
}

/// `kubectl describe limitrange`: one row per item and resource, `-` where unset.
pub fn describe_limit_range(lr: &LimitRange) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(&lr.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&lr.metadata.namespace)));
    w.write(
        0,
        "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n",
    );
    w.write(
        0,
        "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
    );
    for item in lr.spec.iter().flat_map(|s| &s.limits) {
        let lists = [
            parse_list(item.min.as_ref()),
            parse_list(item.max.as_ref()),
            parse_list(item.default_request.as_ref()),
            parse_list(item.default.as_ref()),
            parse_list(item.max_limit_request_ratio.as_ref()),
        ];
        let names: BTreeSet<&String> = lists.iter().flat_map(|l| l.keys()).collect();
        for name in names {
            let cells: Vec<String> = lists
                .iter()
                .map(|l| l.get(name).map_or_else(|| "-".into(), ToString::to_string))
                .collect();
            w.write(
                0,
                &format!("{}\t{name}\t{}\n", item.type_, cells.join("\t")),
            );
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        LimitRangeItem, LimitRangeSpec, ResourceQuotaSpec, ResourceQuotaStatus,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn rl(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Q>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), Q((*v).to_string())))
                .collect(),
        )
    }

    fn quota() -> ResourceQuota {
        ResourceQuota {
            metadata: ObjectMeta {
                name: Some("q".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(ResourceQuotaSpec {
                hard: rl(&[
                    ("pods", "2"),
                    ("requests.cpu", "1"),
                    ("limits.memory", "1Gi"),
                ]),
                ..Default::default()
            }),
            status: Some(ResourceQuotaStatus {
                hard: rl(&[
                    ("pods", "2"),
                    ("requests.cpu", "1"),
                    ("limits.memory", "1Gi"),
                ]),
                used: rl(&[("pods", "1"), ("requests.cpu", "0"), ("limits.memory", "0")]),
            }),
        }
    }

    #[test]
    fn get_puts_limits_apart() {
        let out = get_quotas(&[quota()], &GetOptions::default(), Timestamp::UNIX_EPOCH);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["NAME", "AGE", "REQUEST", "LIMIT"]
        );
        assert!(
            lines[1].ends_with("pods: 1/2, requests.cpu: 0/1   limits.memory: 0/1Gi"),
            "{out}"
        );
    }

    #[test]
    fn describe_shows_used_and_hard() {
        assert_eq!(
            describe_quota(&quota()),
            "Name:          q\nNamespace:     default\nResource       Used  Hard\n--------       ----  ----\nlimits.memory  0     1Gi\npods           1     2\nrequests.cpu   0     1\n"
        );
        let lr = LimitRange {
            metadata: ObjectMeta {
                name: Some("limits".into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(LimitRangeSpec {
                limits: vec![LimitRangeItem {
                    type_: "Container".into(),
                    max: rl(&[("memory", "1Gi")]),
                    default: rl(&[("cpu", "500m"), ("memory", "1Gi")]),
                    default_request: rl(&[("cpu", "250m"), ("memory", "1Gi")]),
                    ..Default::default()
                }],
            }),
        };
        assert_eq!(
            describe_limit_range(&lr),
            "Name:       limits\nNamespace:  default\nType        Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio\n----        --------  ---  ---  ---------------  -------------  -----------------------\nContainer   cpu       -    -    250m             500m           -\nContainer   memory    -    1Gi  1Gi              1Gi            -\n"
        );
    }
}
