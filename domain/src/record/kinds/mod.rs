//! The kinds of record, one declaration each. Shared lists of choices live
//! here; everything a kind alone needs lives in its file.

pub mod consultation;
pub mod good_practice;
pub mod organisation;
pub mod person;
pub mod project;
pub mod recommendation;

use super::schema::Choices;

/// A member state or the European Commission, by code (labels are the
/// members' names).
pub static MEMBER: Choices = Choices {
    name: "member",
    options: &crate::region::MEMBER_CODES,
    default: None,
};

/// Where a person or organisation works.
pub static SECTOR: Choices = Choices {
    name: "sector",
    options: &[
        "government",
        "academia",
        "private_sector",
        "civil_society",
        "international_organisation",
    ],
    default: None,
};
