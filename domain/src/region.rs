//! The group's fixed reference data: who takes part and what the work is about.

use serde::{Deserialize, Serialize};

/// The four focus areas the Children's Unit and the EGCC work in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FocusArea {
    EarlyIntervention,
    SexualAbuseAndExploitation,
    MigrantChildrenAndTrafficking,
    OutOfHomeCare,
}

impl FocusArea {
    /// The stable name used in documents and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FocusArea::EarlyIntervention => "early_intervention",
            FocusArea::SexualAbuseAndExploitation => "sexual_abuse_and_exploitation",
            FocusArea::MigrantChildrenAndTrafficking => "migrant_children_and_trafficking",
            FocusArea::OutOfHomeCare => "out_of_home_care",
        }
    }

    pub const ALL: [FocusArea; 4] = [
        FocusArea::EarlyIntervention,
        FocusArea::SexualAbuseAndExploitation,
        FocusArea::MigrantChildrenAndTrafficking,
        FocusArea::OutOfHomeCare,
    ];
}

/// A member of the Expert Group: a member state of the CBSS or the European Commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    /// ISO 3166-1 alpha-2 code, or "EU" for the European Commission.
    pub code: &'static str,
    pub name: &'static str,
    /// Whether the member takes part today (Russia's participation ended in 2022).
    pub active: bool,
}

/// The group's members as the group itself names them, in its own order.
pub const MEMBERS: [Member; 12] = [
    Member {
        code: "DK",
        name: "Denmark",
        active: true,
    },
    Member {
        code: "EE",
        name: "Estonia",
        active: true,
    },
    Member {
        code: "FI",
        name: "Finland",
        active: true,
    },
    Member {
        code: "DE",
        name: "Germany",
        active: true,
    },
    Member {
        code: "IS",
        name: "Iceland",
        active: true,
    },
    Member {
        code: "LV",
        name: "Latvia",
        active: true,
    },
    Member {
        code: "LT",
        name: "Lithuania",
        active: true,
    },
    Member {
        code: "NO",
        name: "Norway",
        active: true,
    },
    Member {
        code: "PL",
        name: "Poland",
        active: true,
    },
    Member {
        code: "RU",
        name: "Russia",
        active: false,
    },
    Member {
        code: "SE",
        name: "Sweden",
        active: true,
    },
    Member {
        code: "EU",
        name: "European Commission",
        active: true,
    },
];

/// The members' codes, in the group's order (for fields that name one).
pub const MEMBER_CODES: [&str; 12] = {
    let mut codes = [""; 12];
    let mut index = 0;
    while index < MEMBERS.len() {
        codes[index] = MEMBERS[index].code;
        index += 1;
    }
    codes
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_have_unique_codes_and_only_russia_is_inactive() {
        let mut codes: Vec<_> = MEMBERS.iter().map(|m| m.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), MEMBERS.len());
        let inactive: Vec<_> = MEMBERS
            .iter()
            .filter(|m| !m.active)
            .map(|m| m.name)
            .collect();
        assert_eq!(inactive, ["Russia"]);
    }
}
