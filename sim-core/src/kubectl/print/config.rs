//! ConfigMaps and Secrets: `kubectl get` columns (`printConfigMap`, `printSecret` in
//! `pkg/printers/internalversion/printers.go`) and `kubectl describe` (`describeConfigMap`,
//! `describeSecret` in kubectl's `describe.go`). Go walks the data maps in random order; they
//! are printed sorted here.

use k8s_openapi::api::core::v1::{ConfigMap, Event, Secret};
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::describe::{
    PrefixWriter, describe_events, print_annotations_multiline, print_labels_multiline,
};
use super::duration::age;
use super::get::{Column, Row, print_table};
use super::util::s;

/// `kubectl get configmaps`: NAME, DATA (keys of `data` and `binaryData`), AGE.
pub fn get_configmaps(cms: &[ConfigMap], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[("Name", false), ("Data", false), ("Age", false)];
    let rows = cms
        .iter()
        .map(|cm| Row {
            meta: &cm.metadata,
            cells: vec![
                s(&cm.metadata.name).to_string(),
                (cm.data.as_ref().map_or(0, |d| d.len())
                    + cm.binary_data.as_ref().map_or(0, |d| d.len()))
                .to_string(),
                age(cm.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "configmap", opts)
}

/// `kubectl get secrets`: NAME, TYPE, DATA, AGE.
pub fn get_secrets(secrets: &[Secret], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Type", false),
        ("Data", false),
        ("Age", false),
    ];
    let rows = secrets
        .iter()
        .map(|sec| Row {
            meta: &sec.metadata,
            cells: vec![
                s(&sec.metadata.name).to_string(),
                s(&sec.type_).to_string(),
                sec.data.as_ref().map_or(0, |d| d.len()).to_string(),
                age(sec.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "secret", opts)
}

/// `kubectl describe configmap`: each `data` value in full, `binaryData` as sizes, then the
/// events about it.
pub fn describe_configmap(cm: &ConfigMap, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(&cm.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&cm.metadata.namespace)));
    print_labels_multiline(&mut w, "Labels", cm.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", cm.metadata.annotations.as_ref());
    w.write(0, "\nData\n====\n");
    for (k, v) in cm.data.iter().flatten() {
        w.write(0, &format!("{k}:\n----\n"));
        w.write(0, &format!("{v}\n"));
        w.write(0, "\n");
    }
    w.write(0, "\nBinaryData\n====\n");
    for (k, v) in cm.binary_data.iter().flatten() {
        w.write(0, &format!("{k}: {} bytes\n", v.0.len()));
    }
    w.write(0, "\n");
    describe_events(events, &mut w, now);
    w.finish()
}

/// `kubectl describe secret`: the type and each key's size, never a value (but a
/// service-account token's).
pub fn describe_secret(secret: &Secret) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(&secret.metadata.name)));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(&secret.metadata.namespace)),
    );
    print_labels_multiline(&mut w, "Labels", secret.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", secret.metadata.annotations.as_ref());
    let ty = s(&secret.type_);
    w.write(0, &format!("\nType:\t{ty}\n"));
    w.write(0, "\nData\n====\n");
    for (k, v) in secret.data.iter().flatten() {
        if k == "token" && ty == "kubernetes.io/service-account-token" {
            w.write(0, &format!("{k}:\t{}\n", String::from_utf8_lossy(&v.0)));
        } else {
            w.write(0, &format!("{k}:\t{} bytes\n", v.0.len()));
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::jiff::Timestamp;

    use super::*;

    fn meta(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some("live-coding".into()),
            creation_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                Timestamp::from_second(1_000).unwrap(),
            )),
            ..Default::default()
        }
    }

    fn cm() -> ConfigMap {
        ConfigMap {
            metadata: meta("app-cfg"),
            data: Some(
                [("color", "blue"), ("size", "3")]
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .into(),
            ),
            ..Default::default()
        }
    }

    fn secret() -> Secret {
        Secret {
            metadata: meta("db"),
            type_: Some("Opaque".into()),
            data: Some(
                [("password", "s3cr3t"), ("user", "admin")]
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .into(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn describe_prints_as_kubectl_1_37_does() {
        // Both texts as the real kubectl 1.37.1 printed them against `kubesim serve`.
        let now = Timestamp::from_second(1_060).unwrap();
        assert_eq!(
            describe_configmap(&cm(), &[], now),
            "Name:         app-cfg\nNamespace:    live-coding\nLabels:       <none>\nAnnotations:  <none>\n\nData\n====\ncolor:\n----\nblue\n\nsize:\n----\n3\n\n\nBinaryData\n====\n\nEvents:  <none>\n"
        );
        assert_eq!(
            describe_secret(&secret()),
            "Name:         db\nNamespace:    live-coding\nLabels:       <none>\nAnnotations:  <none>\n\nType:  Opaque\n\nData\n====\npassword:  6 bytes\nuser:      5 bytes\n"
        );
    }

    #[test]
    fn get_tables_count_keys() {
        let now = Timestamp::from_second(1_060).unwrap();
        let o = GetOptions::default();
        assert_eq!(
            get_configmaps(&[cm()], &o, now),
            "NAME      DATA   AGE\napp-cfg   2      60s\n"
        );
        assert_eq!(
            get_secrets(&[secret()], &o, now),
            "NAME   TYPE     DATA   AGE\ndb     Opaque   2      60s\n"
        );
    }
}
