//! Killercoda folders as the community writes them: a Katacoda-era `courseData` setup, a
//! foreground script, assets copied where the scripts expect them, all run in the scenario's
//! sandbox with the real kubectl against the scenario's own cluster.

use std::path::Path;
use std::time::Duration;

use crate::kubectl_real::Cluster;

/// Polls `f` (about 60 s at most: the first script after a build starts the freshly
/// linked relay binary from a cold page cache) until it gives `Some`.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(t) = f() {
            return t;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("never happened: {what}");
}

/// The scenario's JSON state (the page's `/state`).
fn state(c: &Cluster, id: &str) -> String {
    c.http_get(&format!("/scenarios/{id}/state"))
}

#[test]
fn a_course_data_setup_with_assets_and_foreground_scripts_plays_as_on_killercoda() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/killercoda");
    let c = Cluster::start_with(1.0, Some(dir));
    let id = "setup-and-assets";
    c.http("POST", &format!("/scenarios/{id}/start"));
    let response = c.http_get(&format!("/scenarios/{id}/kubeconfig"));
    let kubeconfig = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    std::fs::write(c.dir.join("kubeconfig"), kubeconfig).unwrap();

    // courseData ran in the sandbox: the namespace, and the Deployment from the asset it
    // applied from /root/assets.
    let replicas = eventually("the setup applied the shop Deployment", || {
        let out = c.kubectl(&[
            "-n",
            "shop",
            "get",
            "deploy",
            "shop",
            "-o",
            "jsonpath={.spec.replicas}",
        ]);
        (out.stdout == "1").then_some(out.stdout)
    });
    assert_eq!(replicas, "1");
    // The foreground script waited for the background one's marker in the scenario's /tmp
    // and read its notes from /opt: its output is on the page, as typed in a terminal.
    let page = eventually("the foreground script's output is on the page", || {
        let page = c.http_get(&format!("/scenarios/{id}"));
        page.contains("Environment ready").then_some(page)
    });
    assert!(
        page.contains("Environment ready: shop has 1 replica; the team wants 3"),
        "{page}"
    );
    assert!(
        page.contains("the setup&#39;s foreground script ran")
            || page.contains("the setup's foreground script ran"),
        "{page}"
    );
    // Nothing of it was written on this machine.
    assert!(!Path::new("/opt/course/1/notes.txt").exists());

    let verify = |want: bool| {
        eventually(&format!("verify says passed={want}"), || {
            let out = c.http("POST", &format!("/scenarios/{id}/verify"));
            out.contains(&format!("\"passed\":{want}")).then_some(out)
        })
    };
    verify(false);
    c.ok(&["-n", "shop", "scale", "deployment", "shop", "--replicas=3"]);
    verify(true);
    assert!(
        c.http("POST", &format!("/scenarios/{id}/next"))
            .contains("\"ok\":true")
    );

    // Step 2's foreground script lists the assets; its verify script is an asset installed
    // executable in /usr/local/bin.
    eventually("step 2's foreground output", || {
        let page = c.http_get(&format!("/scenarios/{id}"));
        page.contains("shop-svc.yaml").then_some(())
    });
    let out = verify(false);
    assert!(
        out.contains("there is no Service shop in namespace shop yet"),
        "{out}"
    );
    // The student applies the asset from the page's console, as the step says.
    let applied = c.http_form(
        &format!("/scenarios/{id}/kubectl"),
        "cmd=kubectl+apply+-f+%2Froot%2Fassets%2Fshop-svc.yaml",
    );
    assert!(applied.contains("service/shop created"), "{applied}");
    verify(true);
    assert!(
        state(&c, id).contains("\"passed\":[1,2]"),
        "{}",
        state(&c, id)
    );
}

/// A folder whose setup fails says so on the page, with the script's own words.
#[test]
fn a_failing_setup_script_is_shown_with_its_output() {
    let base = std::env::temp_dir().join(format!("kubesim-kc-fail-{}", std::process::id()));
    let dir = base.join("broken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.json"),
        r#"{"title": "Broken", "details": {"intro": {"text": "i.md", "background": "setup.sh"},
            "steps": [{"text": "s.md"}]}, "backend": {"imageid": "kubernetes-kubeadm-1node"}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("i.md"), "Intro").unwrap();
    std::fs::write(dir.join("s.md"), "Step").unwrap();
    std::fs::write(
        dir.join("setup.sh"),
        "echo installing > /usr/local/bin/tool\nkubectl get namespace nowhere\n",
    )
    .unwrap();
    let c = Cluster::start_with(1.0, Some(base.clone()));
    c.http("POST", "/scenarios/broken/start");
    let page = eventually("the failure is on the page", || {
        let page = c.http_get("/scenarios/broken");
        page.contains("failed").then_some(page)
    });
    assert!(
        page.contains("namespaces &quot;nowhere&quot; not found")
            || page.contains("namespaces \"nowhere\" not found"),
        "{page}"
    );
    let _ = std::fs::remove_dir_all(base);
}
