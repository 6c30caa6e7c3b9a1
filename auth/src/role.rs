//! The three roles, each holding everything of the roles below it.

use std::fmt;
use std::str::FromStr;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Support analysts: decide, explain, vocabulary, cases.
    Analista,
    /// Process owners: also the bundle, its reload status and diffs.
    Dono,
    /// Administrators: also statistics, log export and tokens.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Analista, Role::Dono, Role::Admin];

    /// Whether this role may do what `needed` may.
    pub fn covers(self, needed: Role) -> bool {
        self >= needed
    }

    /// The role's name, as typed and stored.
    pub fn name(self) -> &'static str {
        match self {
            Self::Analista => "analista",
            Self::Dono => "dono",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.name() == text)
            .ok_or_else(|| format!("papel desconhecido `{text}`; os papéis são analista, dono e admin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_covers_the_ones_below_it_and_no_higher_one() {
        assert!(Role::Admin.covers(Role::Dono) && Role::Admin.covers(Role::Analista));
        assert!(Role::Dono.covers(Role::Analista) && !Role::Dono.covers(Role::Admin));
        assert!(!Role::Analista.covers(Role::Dono));
    }

    #[test]
    fn names_read_back_and_unknown_ones_are_refused_with_the_list() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        let refused = "root".parse::<Role>().unwrap_err();
        assert!(refused.contains("`root`") && refused.contains("analista, dono e admin"));
    }
}
