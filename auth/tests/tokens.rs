//! Tokens in a real database: created with the secret shown once and
//! never stored, checked, listed, revoked; on a SQLite file and (when
//! `ROTEIRO_TEST_POSTGRES` names one) PostgreSQL 15.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../tests/support/postgres.rs"]
mod postgres;
use chrono::{TimeZone, Utc};
use roteiro_auth::{Role, TokenError, Tokens};

fn lifecycle(address: &str, tag: &str) {
    let at = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
    let mut tokens = Tokens::open(address).expect("opens");
    let (ana_name, bia_name) = (format!("ana-{tag}"), format!("bia-{tag}"));
    let (ana, ana_secret) = tokens.create(&ana_name, Role::Analista, at).expect("creates");
    let (_, bia_secret) = tokens.create(&bia_name, Role::Admin, at).expect("creates");
    assert!(ana_secret.starts_with(&format!("rot_{}_", ana.id)));
    assert!(matches!(
        tokens.create(&ana_name, Role::Dono, at),
        Err(TokenError::Duplicate(_))
    ));

    let ring = tokens.keyring().expect("reads");
    let who = ring.identify(&ana_secret).expect("a live token identifies");
    assert_eq!((who.name.as_str(), who.role), (ana_name.as_str(), Role::Analista));
    assert_eq!(ring.identify(&bia_secret).map(|who| who.role), Some(Role::Admin));
    // One character off, or another token's id with this secret: no one.
    let mut forged = ana_secret.clone();
    forged.pop();
    forged.push(if ana_secret.ends_with('0') { '1' } else { '0' });
    assert!(ring.identify(&forged).is_none());
    let (_, ana_part) = ana_secret.rsplit_once('_').unwrap();
    let (bia_id, _) = bia_secret.trim_start_matches("rot_").split_once('_').unwrap();
    assert!(ring.identify(&format!("rot_{bia_id}_{ana_part}")).is_none());

    // The secret is nowhere in what is kept or listed.
    let listed = tokens.list().expect("lists");
    let secret_part = ana_part.to_string();
    assert!(!format!("{listed:?}").contains(&secret_part));

    let revoked = tokens.revoke(&ana_name, at).expect("revokes by name");
    assert_eq!(revoked.id, ana.id);
    assert!(revoked.revoked_at.is_some());
    assert!(tokens.keyring().unwrap().identify(&ana_secret).is_none());
    assert!(matches!(tokens.revoke(&ana.id, at), Err(TokenError::NotFound(_))));
    // The name is free again; the revoked token stays listed.
    tokens
        .create(&ana_name, Role::Dono, at)
        .expect("a revoked name can be reused");
    let listed = tokens.list().unwrap();
    assert_eq!(listed.iter().filter(|t| t.name == ana_name).count(), 2);
}

#[test]
fn tokens_on_a_sqlite_file() {
    let folder = std::env::temp_dir().join(format!("roteiro-tokens-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("roteiro.db");
    lifecycle(file.to_str().unwrap(), "sqlite");
    let stored = std::fs::read(&file).unwrap();
    assert!(!stored.is_empty());
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn tokens_on_postgres() {
    let Some(address) = postgres::address() else { return };
    lifecycle(&address, &format!("pg{}", postgres::unique()));
}
