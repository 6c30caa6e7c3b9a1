//! Query parameters several handlers read.

use axum::extract::Query;

use crate::reply::ApiError;

/// A request's query, by name.
pub type Params = Query<std::collections::BTreeMap<String, String>>;

/// `since=AAAA-MM-DD` of a query, as midnight UTC.
pub fn since(
    query: &std::collections::BTreeMap<String, String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    let Some(text) = query.get("since") else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| Some(at.and_utc()))
        .ok_or_else(|| ApiError::bad_parameter("since", text, "uma data AAAA-MM-DD"))
}
