//! Releases kept in the log's database (migration 0009), SQLite or
//! PostgreSQL: each an immutable snapshot of a bundle's files with who
//! published it, when, why and what its gates and impact were; and the
//! events that approve and activate them. The active release is the one
//! the latest activation names, so a rollback is one more event, never an
//! edit of history.

use chrono::{DateTime, NaiveDate, Utc};
use roteiro_decision_log::db::{Db, OnDb, Param};
use roteiro_decision_log::LogError;
use roteiro_engine::SourceFile;
use serde::{Deserialize, Serialize};

use crate::gates::Gates;
use crate::impact::Impact;
use crate::ReleaseError;

/// Event kinds, as stored and shown.
pub mod kind {
    /// Stored after its gates passed.
    pub const PUBLISHED: &str = "publicada";
    /// Approved by a second owner or an admin.
    pub const APPROVED: &str = "aprovada";
    /// Made the one every replica serves.
    pub const ACTIVATED: &str = "ativada";
    /// Made active again after a later one (a rollback).
    pub const ROLLED_BACK: &str = "revertida";
}

/// Where a release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waits for a second person's approval.
    Proposta,
    /// Served by every replica.
    Ativa,
    /// Published, not the active one (an earlier or a replaced version).
    Publicada,
}

impl State {
    /// The state in words.
    pub fn name(self) -> &'static str {
        match self {
            Self::Proposta => "proposta, esperando aprovação",
            Self::Ativa => "ativa",
            Self::Publicada => "publicada",
        }
    }
}

/// A release as listed: everything but its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Assigned at publication: the local date and a count, `2026.12.07-1`.
    pub version: String,
    /// The bundle's name.
    pub bundle_name: String,
    /// Digest of every file.
    pub digest: String,
    /// Who published it (the token's name).
    pub author: String,
    /// When (RFC 3339, UTC).
    pub published_at: String,
    /// Why.
    pub note: String,
    /// Its gates, all passed.
    pub gates: Gates,
    /// Its impact on the log's latest decisions when published.
    pub impact: Impact,
    /// Whether a second person had to approve it.
    pub needs_approval: bool,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<String>,
    /// Where it stands now.
    pub state: State,
}

/// A bundle that passed its gates, to be stored as a release.
pub struct Draft {
    /// The bundle's name.
    pub bundle_name: String,
    /// Digest of every file.
    pub digest: String,
    /// The files, as loaded.
    pub files: Vec<SourceFile>,
    /// Why it is published.
    pub note: String,
    /// Its gates.
    pub gates: Gates,
    /// Its impact on the log's latest decisions.
    pub impact: Impact,
    /// Whether the bundle asks a second person to approve it.
    pub needs_approval: bool,
    /// The day of publication in the bundle's zone: the version's date.
    pub local_date: NaiveDate,
}

/// One thing done to a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The release.
    pub version: String,
    /// `publicada`, `aprovada`, `ativada` or `revertida`.
    pub kind: String,
    /// Who did it.
    pub who: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Why.
    pub note: String,
}

/// The active release's version and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Its version.
    pub version: String,
    /// Its digest.
    pub digest: String,
}

/// The releases of one database.
pub struct Releases {
    db: Db,
}

impl OnDb for Releases {
    fn from_db(db: Db) -> Self {
        Self { db }
    }

    fn into_db(self) -> Db {
        self.db
    }
}

const COLUMNS: &str = "version, bundle_name, digest, author, published_at, note, gates, impact, \
                       CAST(needs_approval AS TEXT), approved_by, approved_at";

/// A moment as stored: UTC, seconds, `Z`.
fn moment(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Releases {
    /// Opens (creating and migrating) the database at `address`.
    pub fn open(address: &str) -> Result<Self, LogError> {
        Ok(Self { db: Db::open(address)? })
    }

    /// Stores `draft` as a new release by `author` at `now`, numbered
    /// within its day of publication; active at once unless the bundle
    /// asks for approval. A draft whose gates failed is never stored.
    pub fn publish(&mut self, draft: &Draft, author: &str, now: DateTime<Utc>) -> Result<Release, ReleaseError> {
        if !draft.gates.passed() {
            return Err(ReleaseError::GatesFailed);
        }
        if let Some(active) = self.active()? {
            if active.digest == draft.digest {
                return Err(ReleaseError::Unchanged(active.version));
            }
        }
        let files =
            serde_json::to_string(&files_json(&draft.files)).map_err(|err| ReleaseError::Stored(err.to_string()))?;
        let gates = serde_json::to_string(&draft.gates).map_err(|err| ReleaseError::Stored(err.to_string()))?;
        let impact = serde_json::to_string(&draft.impact).map_err(|err| ReleaseError::Stored(err.to_string()))?;
        let at = moment(now);
        let day = draft.local_date.format("%Y.%m.%d").to_string();
        let version = self.db.transaction(|db| -> Result<String, ReleaseError> {
            let taken = db.rows(
                "SELECT CAST(count(*) AS TEXT) FROM releases WHERE version LIKE $1",
                &[Param::Text(&format!("{day}-%"))],
            )?;
            let count: u64 = first_text(&taken).and_then(|n| n.parse().ok()).unwrap_or(0);
            let version = format!("{day}-{}", count + 1);
            db.execute(
                "INSERT INTO releases (version, bundle_name, digest, files, author, published_at, note, gates, impact, needs_approval) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    Param::Text(&version),
                    Param::Text(&draft.bundle_name),
                    Param::Text(&draft.digest),
                    Param::Text(&files),
                    Param::Text(author),
                    Param::Text(&at),
                    Param::Text(&draft.note),
                    Param::Text(&gates),
                    Param::Text(&impact),
                    Param::Int(i64::from(draft.needs_approval)),
                ],
            )?;
            add_event(db, &version, kind::PUBLISHED, author, &at, &draft.note)?;
            if !draft.needs_approval {
                add_event(db, &version, kind::ACTIVATED, author, &at, &draft.note)?;
            }
            Ok(version)
        })?;
        self.found(&version)
    }

    /// `who` approves the proposed release `version`, which becomes the
    /// active one. Nobody approves their own.
    pub fn approve(
        &mut self,
        version: &str,
        who: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Release, ReleaseError> {
        let release = self.found(version)?;
        if release.state != State::Proposta {
            return Err(ReleaseError::NotProposed(release.version));
        }
        if release.author == who {
            return Err(ReleaseError::OwnApproval(release.version));
        }
        let at = moment(now);
        self.db.transaction(|db| -> Result<(), ReleaseError> {
            let changed = db.execute(
                "UPDATE releases SET approved_by = $1, approved_at = $2 WHERE version = $3 AND approved_by IS NULL",
                &[Param::Text(who), Param::Text(&at), Param::Text(version)],
            )?;
            if changed == 0 {
                // Approved meanwhile by someone else.
                return Err(ReleaseError::NotProposed(version.to_string()));
            }
            add_event(db, version, kind::APPROVED, who, &at, note)?;
            add_event(db, version, kind::ACTIVATED, who, &at, note)?;
            Ok(())
        })?;
        self.found(version)
    }

    /// `who` makes the earlier release `version` active again, saying why:
    /// a rollback, recorded as an event of its own.
    pub fn roll_back(
        &mut self,
        version: &str,
        who: &str,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Release, ReleaseError> {
        let release = self.found(version)?;
        match release.state {
            State::Proposta => return Err(ReleaseError::AwaitingApproval(release.version)),
            State::Ativa => return Err(ReleaseError::AlreadyActive(release.version)),
            State::Publicada => {}
        }
        if note.trim().is_empty() {
            return Err(ReleaseError::NoteMissing);
        }
        let at = moment(now);
        self.db
            .transaction(|db| add_event(db, version, kind::ROLLED_BACK, who, &at, note))?;
        self.found(version)
    }

    /// The release `version`, or that there is none.
    fn found(&mut self, version: &str) -> Result<Release, ReleaseError> {
        self.get(version)?
            .ok_or_else(|| ReleaseError::NotFound(version.to_string()))
    }

    /// The active release, if one was ever activated.
    pub fn active(&mut self) -> Result<Option<Active>, LogError> {
        let rows = self.db.rows(
            "SELECT r.version, r.digest FROM release_events e JOIN releases r ON r.version = e.version \
             WHERE e.kind IN ($1, $2) ORDER BY e.id DESC LIMIT 1",
            &[Param::Text(kind::ACTIVATED), Param::Text(kind::ROLLED_BACK)],
        )?;
        Ok(rows.into_iter().next().and_then(|row| {
            let [version, digest]: [Option<String>; 2] = row.try_into().ok()?;
            Some(Active {
                version: version?,
                digest: digest?,
            })
        }))
    }

    /// Every release, the newest first.
    pub fn list(&mut self) -> Result<Vec<Release>, LogError> {
        let active = self.active()?.map(|active| active.version);
        let rows = self.db.rows(
            &format!("SELECT {COLUMNS} FROM releases ORDER BY published_at DESC, version DESC"),
            &[],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| release_of(row, active.as_deref()))
            .collect())
    }

    /// The release `version`.
    pub fn get(&mut self, version: &str) -> Result<Option<Release>, LogError> {
        let active = self.active()?.map(|active| active.version);
        let rows = self.db.rows(
            &format!("SELECT {COLUMNS} FROM releases WHERE version = $1"),
            &[Param::Text(version)],
        )?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| release_of(row, active.as_deref())))
    }

    /// The files of the release `version`.
    pub fn files(&mut self, version: &str) -> Result<Option<Vec<SourceFile>>, ReleaseError> {
        let rows = self
            .db
            .rows("SELECT files FROM releases WHERE version = $1", &[Param::Text(version)])?;
        let Some(text) = first_text(&rows) else {
            return Ok(None);
        };
        let files: Vec<FileJson> = serde_json::from_str(&text).map_err(|err| ReleaseError::Stored(err.to_string()))?;
        Ok(Some(
            files
                .into_iter()
                .map(|file| SourceFile {
                    path: file.path,
                    text: file.text,
                })
                .collect(),
        ))
    }

    /// What was done to releases, the newest first (at most `limit`).
    pub fn events(&mut self, limit: i64) -> Result<Vec<Event>, LogError> {
        let rows = self.db.rows(
            "SELECT version, kind, who, at, note FROM release_events ORDER BY id DESC LIMIT $1",
            &[Param::Int(limit)],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let [version, kind, who, at, note]: [Option<String>; 5] = row.try_into().ok()?;
                Some(Event {
                    version: version?,
                    kind: kind?,
                    who: who?,
                    at: at?,
                    note: note.unwrap_or_default(),
                })
            })
            .collect())
    }
}

fn add_event(db: &mut Db, version: &str, kind: &str, who: &str, at: &str, note: &str) -> Result<(), LogError> {
    db.execute(
        "INSERT INTO release_events (version, kind, who, at, note) VALUES ($1, $2, $3, $4, $5)",
        &[
            Param::Text(version),
            Param::Text(kind),
            Param::Text(who),
            Param::Text(at),
            Param::Text(note),
        ],
    )?;
    Ok(())
}

fn first_text(rows: &[Vec<Option<String>>]) -> Option<String> {
    rows.first().and_then(|row| row.first().cloned().flatten())
}

/// A file as the `files` column keeps it.
#[derive(Serialize, Deserialize)]
struct FileJson {
    path: String,
    text: String,
}

fn files_json(files: &[SourceFile]) -> Vec<FileJson> {
    files
        .iter()
        .map(|file| FileJson {
            path: file.path.clone(),
            text: file.text.clone(),
        })
        .collect()
}

fn release_of(row: Vec<Option<String>>, active: Option<&str>) -> Option<Release> {
    let [version, bundle_name, digest, author, published_at, note, gates, impact, needs, approved_by, approved_at]: [Option<String>; 11] =
        row.try_into().ok()?;
    let version = version?;
    let needs_approval = needs.as_deref() == Some("1");
    let state = if active == Some(version.as_str()) {
        State::Ativa
    } else if needs_approval && approved_by.is_none() {
        State::Proposta
    } else {
        State::Publicada
    };
    Some(Release {
        bundle_name: bundle_name?,
        digest: digest?,
        author: author?,
        published_at: published_at?,
        note: note.unwrap_or_default(),
        gates: serde_json::from_str(&gates?).ok()?,
        impact: serde_json::from_str(&impact?).ok()?,
        needs_approval,
        approved_by,
        approved_at,
        state,
        version,
    })
}
