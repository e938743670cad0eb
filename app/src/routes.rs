//! Which page a path shows. One function serves the server (to answer 404 for
//! unknown paths) and the browser (to pick the page to render), so they agree.
//! Record pages come from the kinds' declarations: `/<kind path>` lists a
//! kind, `/<kind path>/archived` its archived records, `/<kind path>/<id>` one.

use tern_domain::record::RecordKind;

/// The sections of the app, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Recommendations,
    Projects,
    Consultations,
    GoodPractices,
    Network,
    Sync,
    Settings,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Overview,
        Section::Recommendations,
        Section::Projects,
        Section::Consultations,
        Section::GoodPractices,
        Section::Network,
        Section::Sync,
        Section::Settings,
    ];

    /// Where the navigation entry leads: a section of records opens the list
    /// of its first kind.
    pub fn path(self) -> String {
        match self {
            Section::Overview => "/".into(),
            Section::Sync => "/sync".into(),
            Section::Settings => "/settings".into(),
            _ => self
                .kinds()
                .next()
                .map(list_path)
                .unwrap_or_else(|| "/".into()),
        }
    }

    /// The kinds whose records this section holds (the Network: people and
    /// organisations).
    pub fn kinds(self) -> impl Iterator<Item = RecordKind> {
        RecordKind::ALL
            .into_iter()
            .filter(move |kind| section_of(*kind) == self)
    }
}

/// The app's registry of kinds: the section each belongs to. One line per kind.
pub fn section_of(kind: RecordKind) -> Section {
    match kind {
        RecordKind::Recommendation => Section::Recommendations,
        RecordKind::Project => Section::Projects,
        RecordKind::Consultation => Section::Consultations,
        RecordKind::GoodPractice => Section::GoodPractices,
        RecordKind::Person | RecordKind::Organisation => Section::Network,
    }
}

pub fn list_path(kind: RecordKind) -> String {
    format!("/{}", kind.def().path)
}

pub fn archived_path(kind: RecordKind) -> String {
    format!("/{}/archived", kind.def().path)
}

pub fn record_path(kind: RecordKind, id: impl std::fmt::Display) -> String {
    format!("/{}/{id}", kind.def().path)
}

/// A page of the app, with the parameters its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Overview, Sync or Settings.
    Section(Section),
    List(RecordKind),
    Archived(RecordKind),
    Record(RecordKind, String),
    /// `/welcome#<token>`: choosing a password from an invitation link.
    Welcome,
    /// The secretariat's users and member states.
    Users,
    NotFound,
}

/// The path of the secretariat's users page.
pub const USERS_PATH: &str = "/users";

/// Where the Network used to be; links to it still open the people.
const OLD_NETWORK_PATH: &str = "/network";

impl Page {
    pub fn from_path(path: &str) -> Page {
        let trimmed = path.trim_end_matches('/');
        match trimmed {
            "" => return Page::Section(Section::Overview),
            "/sync" => return Page::Section(Section::Sync),
            "/settings" => return Page::Section(Section::Settings),
            OLD_NETWORK_PATH => return Page::List(RecordKind::Person),
            USERS_PATH => return Page::Users,
            _ if trimmed == tern_domain::auth::WELCOME_PAGE => return Page::Welcome,
            _ => {}
        }
        let mut segments = trimmed.trim_start_matches('/').split('/');
        let kind = segments.next().and_then(RecordKind::from_path);
        match (kind, segments.next(), segments.next()) {
            (Some(kind), None, _) => Page::List(kind),
            (Some(kind), Some("archived"), None) => Page::Archived(kind),
            (Some(kind), Some(id), None) if is_record_id(id) => Page::Record(kind, id.to_owned()),
            _ => Page::NotFound,
        }
    }

    /// The section whose navigation entry is current on this page.
    pub fn section(&self) -> Option<Section> {
        match self {
            Page::Section(section) => Some(*section),
            Page::List(kind) | Page::Archived(kind) | Page::Record(kind, _) => {
                Some(section_of(*kind))
            }
            Page::Welcome | Page::Users | Page::NotFound => None,
        }
    }
}

/// Record ids are UUIDs today; accept any short token of URL-safe characters so a
/// link stays valid if the id scheme grows, and refuse anything else.
fn is_record_id(segment: &str) -> bool {
    (1..=64).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_records_are_recognised() {
        assert_eq!(Page::from_path("/"), Page::Section(Section::Overview));
        assert_eq!(
            Page::from_path("/projects/"),
            Page::List(RecordKind::Project)
        );
        assert_eq!(
            Page::from_path("/recommendations/0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b"),
            Page::Record(
                RecordKind::Recommendation,
                "0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b".into()
            )
        );
        assert_eq!(
            Page::from_path("/projects/abc").section(),
            Some(Section::Projects)
        );
        assert_eq!(
            Page::from_path("/good-practices/archived"),
            Page::Archived(RecordKind::GoodPractice)
        );
        assert_eq!(Page::from_path("/network"), Page::List(RecordKind::Person));
        assert_eq!(
            Page::from_path("/organisations").section(),
            Some(Section::Network)
        );
        assert_eq!(Page::from_path("/welcome"), Page::Welcome);
        assert_eq!(Page::from_path("/users/"), Page::Users);
    }

    #[test]
    fn every_kind_has_a_section_whose_entry_leads_to_a_list() {
        for kind in RecordKind::ALL {
            let section = section_of(kind);
            assert_eq!(Page::from_path(&list_path(kind)), Page::List(kind));
            assert_eq!(Page::from_path(&section.path()).section(), Some(section));
        }
        for section in Section::ALL {
            assert_eq!(Page::from_path(&section.path()).section(), Some(section));
        }
    }

    /// The service worker precaches the routes `scripts/site.mjs` lists: every
    /// section and every kind's list, and the old Network address.
    #[test]
    fn the_service_worker_precaches_every_section_and_list() {
        let script = include_str!("../../scripts/site.mjs");
        let start = script.find("const PAGE_ROUTES = [").expect("PAGE_ROUTES") + 21;
        let end = start + script[start..].find(']').expect("end of PAGE_ROUTES");
        let mut listed: Vec<String> = script[start..end]
            .split(',')
            .map(|route| route.trim().trim_matches('"').to_owned())
            .filter(|route| !route.is_empty())
            .collect();
        let mut expected: Vec<String> = Section::ALL.iter().map(|s| s.path()).collect();
        expected.extend(RecordKind::ALL.iter().map(|kind| list_path(*kind)));
        expected.push(OLD_NETWORK_PATH.to_owned());
        for list in [&mut listed, &mut expected] {
            list.sort();
            list.dedup();
        }
        assert_eq!(listed, expected);
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "/nope",
            "/recommendations/a/b",
            "/projects/<script>",
            "/settings/x",
        ] {
            assert_eq!(Page::from_path(path), Page::NotFound, "{path}");
        }
    }
}
