//! "Você quis dizer ...?": the closest known name to a misspelled one.

/// The candidate closest to `name` by edit distance, when it is close
/// enough to be a typo (at most a third of the name's length, and 2 edits
/// at least).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (distance(name, candidate), candidate))
        // A one-letter name is "close" to every other one-letter name:
        // a suggestion must keep something of what was written.
        .filter(|(distance, _)| *distance <= limit && *distance < name.chars().count())
        .min()
        .map(|(_, candidate)| candidate)
}

/// `; você quis dizer \`x\`?` when a candidate is close to `name`, else
/// nothing: the tail of an "unknown name" message.
pub fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map_or_else(String::new, |near| format!("; você quis dizer `{near}`?"))
}

/// Levenshtein distance over characters; names are short, so the row
/// buffer is too.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or_default();
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or_default();
            let left = row.get(j).copied().unwrap_or_default();
            let cost = usize::from(ca != *cb);
            let best = (diagonal + cost).min(above + 1).min(left + 1);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_name_and_strangers_find_none() {
        let names = ["client", "contact", "request", "billing"];
        assert_eq!(closest("clent", names), Some("client"));
        assert_eq!(closest("reqest", names), Some("request"));
        assert_eq!(closest("xyz", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
