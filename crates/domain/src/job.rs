//! Persistent background jobs: what they do, what they belong to, where they stand; and the
//! outcome of one period's pull in the sync history.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ConnectionId;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Pull a connection's cost data.
    Sync,
    /// Rate an organization's cost data.
    Rate,
    /// An organization's invoicing chores: lock closed periods, run due schedules, send e-mail.
    Invoice,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Rate => "rate",
            Self::Invoice => "invoice",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "sync" => Self::Sync,
            "rate" => Self::Rate,
            "invoice" => Self::Invoice,
            _ => return None,
        })
    }

    /// Whether a running job of this kind answers a new request for the same subject. A sync
    /// already running pulls whatever is open, so a second one would repeat it; a rating already
    /// running may have read an older configuration, so a new request queues another one.
    pub fn running_job_answers_new_request(self) -> bool {
        match self {
            Self::Sync => true,
            Self::Rate => false,
            Self::Invoice => false,
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_after` and a free runner.
    Queued,
    /// Claimed by a server, which holds its lease.
    Running,
    Done,
    Failed,
    /// Stopped because its subject went away (a deleted connection).
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Queued or running: the job still has work to do.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job is about. Every job belongs to an organization; a sync also to a connection.
/// At most one job of a kind runs per subject at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum JobSubject {
    Connection(ConnectionId),
    /// The organization as a whole (rating).
    Organization,
}

impl JobSubject {
    pub fn connection(self) -> Option<ConnectionId> {
        match self {
            Self::Connection(c) => Some(c),
            Self::Organization => None,
        }
    }
}

/// How one period's pull in a sync went (the sync history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Running,
    Succeeded,
    Failed,
}

impl SyncOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

impl fmt::Display for SyncOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_database_and_json() {
        for k in [JobKind::Sync, JobKind::Rate] {
            assert_eq!(JobKind::from_db(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::String(k.as_str().into()))
            );
        }
        for s in [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ] {
            assert_eq!(JobState::from_db(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::String(s.as_str().into()))
            );
        }
        for o in [
            SyncOutcome::Running,
            SyncOutcome::Succeeded,
            SyncOutcome::Failed,
        ] {
            assert_eq!(SyncOutcome::from_db(o.as_str()), Some(o));
        }
        assert_eq!(JobKind::from_db("Sync"), None);
        assert_eq!(JobState::from_db("canceled"), None);
    }

    #[test]
    fn only_queued_and_running_are_active() {
        let active: Vec<JobState> = [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .filter(|s| s.is_active())
        .collect();
        assert_eq!(active, [JobState::Queued, JobState::Running]);
    }

    #[test]
    fn a_running_sync_answers_a_new_request_a_running_rating_does_not() {
        assert!(JobKind::Sync.running_job_answers_new_request());
        assert!(!JobKind::Rate.running_job_answers_new_request());
    }
}
