use super::*;

fn cluster_with(replicas: u32) -> Sandbox {
    let nodes: String = (1..=12)
        .map(|i| format!("    - {{name: node-{i}, cpu: \"64\", memory: 256Gi, pods: 250}}\n"))
        .collect();
    let text = format!(
        "cluster:\n  nodes:\n{nodes}steps:\n  - apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: big}}\n      spec:\n        replicas: {replicas}\n        selector: {{matchLabels: {{app: big}}}}\n        template:\n          metadata: {{labels: {{app: big}}}}\n          spec:\n            containers: [{{name: c, image: nginx:1.27}}]\n  - advance: 30s\n"
    );
    Sandbox::new(&text, None).unwrap()
}

#[test]
fn the_stream_sends_only_the_tiles_that_changed() {
    let mut sb = cluster_with(100);
    let (html, tiles) = cluster(&sb.sim, &sb.cells, None);
    let before = tiles.expect("100 pods are tiles");
    assert_eq!(before.pods.len(), 100);
    // Every tile in the HTML is in the data, with the same revision.
    assert_eq!(html.matches("data-rev=\"1\"").count(), 100);
    assert!(
        before
            .pods
            .values()
            .all(|t| t.letter == 'r' && t.revision == 1)
    );
    assert_eq!(
        before.diff(&before).unwrap()["set"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A rollout: new pods appear, some old ones terminate or go.
    sb.act(Action::Kubectl(
        // A tag nginx never published: the new pods stay in ErrImagePull, so the rollout
        // stops at its surge and most tiles do not change.
        "set image deployment/big c=nginx:1.99".into(),
    ));
    sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(1));
    let after = cluster(&sb.sim, &sb.cells, None).1.unwrap();
    let d = after.diff(&before).unwrap();
    let set = d["set"].as_array().unwrap();
    let changed = after
        .pods
        .iter()
        .filter(|(k, t)| before.pods.get(*k) != Some(*t))
        .count();
    assert!(changed > 0 && set.len() == changed, "{d}");
    assert!(set.len() < 100, "unchanged tiles are not sent: {d}");
    let new_pod = set.iter().find(|t| t[5] == 2).expect("a revision-2 pod");
    assert_eq!(
        new_pod.as_array().unwrap().len(),
        7,
        "[ns, name, node, letter, status, revision, restarts]"
    );
    assert_eq!(new_pod[0], "default");
    let gone = before
        .pods
        .keys()
        .filter(|k| !after.pods.contains_key(*k))
        .count();
    assert_eq!(d["del"].as_array().unwrap().len(), gone);
    assert_eq!(
        d["count"],
        format!(
            "{} pods in all namespaces (at most 150,000)",
            after.pods.len()
        )
    );

    // A node going away changes the boxes: the tab gets the HTML instead.
    let mut fewer = after.clone();
    fewer.nodes.pop();
    assert!(fewer.diff(&after).is_none());
    // A node going down changes only its header.
    let mut down = after.clone();
    down.nodes[0].class = "node node-down".into();
    down.nodes[0].status = "NotReady".into();
    let d = down.diff(&after).unwrap();
    assert_eq!(
        d["nodes"],
        serde_json::json!([[0, "node node-down", "NotReady", after.nodes[0].cpu]])
    );
    assert_eq!(d["set"].as_array().unwrap().len(), 0);
}

#[test]
fn large_clusters_are_drawn_on_a_canvas() {
    let small = cluster_with(100);
    let html = cluster(&small.sim, &PodCells::default(), None).0;
    assert!(html.contains("class=\"pod ready") && !html.contains("<canvas"));
    let big = cluster_with(2500);
    let html = cluster(&big.sim, &PodCells::default(), None).0;
    assert!(
        html.contains("<canvas") && !html.contains("class=\"pod "),
        "tiles above {CANVAS_ABOVE} pods"
    );
    assert!(
        html.contains("Running, ready: 2500"),
        "the legend counts every pod"
    );
    // One letter and one revision digit per pod, per node.
    let data = html
        .split("data-pods=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let letters: usize = data
        .split('|')
        .map(|n| n.splitn(3, ':').nth(2).unwrap_or("").len() / 2)
        .sum();
    assert_eq!(letters, 2500);
}

#[test]
fn remembered_pod_cells_match_fresh_ones_through_a_busy_run() {
    let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
    let deploy = "deployment/credit-scoring-api -n live-coding";
    let actions = [
        Action::Kubectl(format!(
            "set image {deploy} api=registry.local/credit-scoring-api:broken"
        )),
        Action::Kubectl(format!("rollout undo {deploy}")),
        Action::NodeDown("node-1".into()),
        Action::Kubectl(format!("scale {deploy} --replicas=4")),
        Action::NodeUp("node-1".into()),
        Action::Kubectl(format!(
            "set image {deploy} api=registry.local/credit-scoring-api:v2"
        )),
        Action::Kubectl(format!("rollout restart {deploy}")),
    ];
    let mut compared = 0;
    for a in actions {
        sb.act(a);
        for _ in 0..40 {
            sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(3));
            let remembered = ClusterPanel::of(&sb.sim, &sb.cells, None).tiles();
            let fresh = ClusterPanel::of(&sb.sim, &PodCells::default(), None).tiles();
            assert_eq!(remembered, fresh, "at {:?}", sb.sim.now());
            compared += fresh.pods.len();
        }
    }
    let states: std::collections::BTreeSet<char> = ClusterPanel::of(&sb.sim, &sb.cells, None)
        .tiles()
        .pods
        .values()
        .map(|t| t.letter)
        .collect();
    assert!(
        compared > 1000 && states.contains(&'r'),
        "{compared} {states:?}"
    );
    let kept = sb.cells.0.lock().unwrap().len();
    assert!(kept >= 4, "the cells of unchanged pods are kept: {kept}");
}

fn two_deployments() -> Sandbox {
    let deploy = |name: &str| {
        format!(
            "  - apply: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {{name: {name}}}\n      spec:\n        replicas: 2\n        selector: {{matchLabels: {{app: {name}}}}}\n        template:\n          metadata: {{labels: {{app: {name}}}}}\n          spec:\n            containers: [{{name: c, image: nginx:1.27}}]\n"
        )
    };
    let text = format!(
        "cluster:\n  nodes:\n    - {{name: node-1, cpu: \"8\", memory: 16Gi}}\nsteps:\n{}{}  - advance: 30s\n",
        deploy("api"),
        deploy("web")
    );
    Sandbox::new(&text, None).unwrap()
}

fn panel<'a>(live: &'a Live, id: &str) -> &'a str {
    &live.panels.iter().find(|(i, _)| *i == id).unwrap().1
}

#[test]
fn events_that_only_age_are_not_sent_again() {
    let mut sb = two_deployments();
    let before = live(&sb, None);
    sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(10));
    let after = live(&sb, None);
    assert_ne!(
        panel(&before, "events"),
        panel(&after, "events"),
        "the page shows the rows ten seconds older"
    );
    assert!(panel(&after, "events").contains(">40s</td>"));
    let (old, new) = (
        before.parts_of("events").unwrap(),
        after.parts_of("events").unwrap(),
    );
    assert_eq!(new.diff(old), Delta::Nothing);
    // The parts carry when each row was last seen, not its age.
    assert!(!new.html().contains(">40s</td>"));
    assert!(new.parts[0].html.contains("data-since=\""));
}

#[test]
fn a_change_to_one_deployment_sends_its_article_and_the_new_event_rows() {
    let mut sb = two_deployments();
    let before = live(&sb, None);
    sb.act(Action::Kubectl("scale deployment web --replicas=3".into()));
    sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(1));
    let after = live(&sb, None);

    let deployments = after
        .parts_of("deployments")
        .unwrap()
        .diff(before.parts_of("deployments").unwrap());
    let Delta::Data(d) = deployments else {
        panic!("{deployments:?}")
    };
    assert_eq!(
        d["order"],
        serde_json::json!(["default/api", "default/web"])
    );
    let set = d["set"].as_object().unwrap();
    assert_eq!(set.keys().collect::<Vec<_>>(), ["default/web"], "{d}");
    assert!(set["default/web"].as_str().unwrap().contains("3 desired"));

    let (old, new) = (
        before.parts_of("events").unwrap(),
        after.parts_of("events").unwrap(),
    );
    let Delta::Data(e) = new.diff(old) else {
        panic!("new events are sent")
    };
    let set = e["set"].as_object().unwrap();
    let order = e["order"].as_array().unwrap();
    assert!(!set.is_empty() && set.len() < order.len(), "{e}");
    // The newest rows come first and are the ones sent; the panel joined from the parts
    // is what the first page shows.
    assert!(set.contains_key(order[0].as_str().unwrap()));
    assert!(
        set.values()
            .any(|h| h.as_str().unwrap().contains("Scaled up replica set web-"))
    );
    assert!(panel(&after, "events").contains("Scaled up replica set web-"));
    assert_eq!(
        panel(&after, "deployments"),
        after.parts_of("deployments").unwrap().html()
    );
}

#[test]
fn decisions_read_as_sentences_with_the_arithmetic_one_click_away() {
    // The demo: 10 pods, RollingUpdate with maxSurge 2 and maxUnavailable 0.
    let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
    sb.act(Action::Kubectl(
        "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding".into(),
    ));
    sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(30));
    let panel = DeploymentsPanel::of(&sb.sim, None);
    let d = &panel.deployments[0];
    let first = d.why.last().expect("decisions");
    assert_eq!(first.number, 1);
    // Pods become ready milliseconds apart, as on a real node, so after the new ReplicaSet's
    // first two the rollout trades one pod at a time.
    assert!(
        d.why.iter().any(|w| w.said
            == "Created ReplicaSet credit-scoring-api-77588c4dd6 for the new template (revision 2) with 2 pods."),
        "{:?}",
        d.why.iter().map(|w| &w.said).collect::<Vec<_>>()
    );
    assert!(
        d.why.iter().any(|w| w.said
            == "Started 1 pod of revision 2: up to 12 pods may exist (maxSurge 2), 11 do."),
        "{:?}",
        d.why.iter().map(|w| &w.said).collect::<Vec<_>>()
    );
    assert!(d.why.iter().any(|w| w
        .said
        .starts_with("Stopped 1 pod of revision 1: at least 10 pods must stay available (maxUnavailable 0), 11 are")));
    assert_eq!(
        d.why[0].number, d.why_total,
        "newest first, numbered in the run"
    );
    let html = panel.html();
    assert!(
        html.contains(&format!("<li value=\"{}\">", d.why_total)),
        "{html}"
    );
    assert!(html.contains("<details class=\"math\"><summary>how</summary>scaled up ReplicaSet"));
    // How long ago is the page's reading of the clock: the server sends when, not an age.
    assert!(html.contains(&format!("data-since=\"{}\"", first.at_ms)));
}

/// A pod tile of revision N (`.rev-{N % 8}`, `--rN` in app.css) has the colour of revision N's
/// line in the timeline (`timeline::PALETTE`).
#[test]
fn pod_tiles_have_their_revisions_timeline_colour() {
    let css = include_str!("../../assets/app.css");
    for (i, colour) in crate::timeline::PALETTE.iter().enumerate() {
        assert!(
            css.contains(&format!("--r{i}: {colour};")),
            "revision {i}: the timeline draws {colour}"
        );
        assert!(
            css.contains(&format!(".rev-{i} {{ border-left-color: var(--r{i}); }}")),
            "the tiles of revision {i}"
        );
    }
    let sb = cluster_with(3);
    let (html, _) = cluster(&sb.sim, &sb.cells, None);
    assert_eq!(
        html.matches("class=\"pod ready rev-1\"").count(),
        3,
        "{html}"
    );
}
