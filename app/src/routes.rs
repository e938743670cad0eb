//! Which page a path shows. One function serves the server (to answer 404 for
//! unknown paths) and the browser (to pick the page to render), so they agree.

/// The six sections of the app, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Recommendations,
    Projects,
    Consultations,
    Network,
    Sync,
    Settings,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Overview,
        Section::Recommendations,
        Section::Projects,
        Section::Consultations,
        Section::Network,
        Section::Sync,
        Section::Settings,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Section::Overview => "/",
            Section::Recommendations => "/recommendations",
            Section::Projects => "/projects",
            Section::Consultations => "/consultations",
            Section::Network => "/network",
            Section::Sync => "/sync",
            Section::Settings => "/settings",
        }
    }
}

/// A page of the app, with the parameters its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Section(Section),
    Recommendation(String),
    Project(String),
    /// `/welcome#<token>`: choosing a password from an invitation link.
    Welcome,
    /// The secretariat's users and member states.
    Users,
    NotFound,
}

/// The path of the secretariat's users page.
pub const USERS_PATH: &str = "/users";

impl Page {
    pub fn from_path(path: &str) -> Page {
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() {
            return Page::Section(Section::Overview);
        }
        if let Some(section) = Section::ALL.into_iter().find(|s| s.path() == trimmed) {
            return Page::Section(section);
        }
        if trimmed == tern_domain::auth::WELCOME_PAGE {
            return Page::Welcome;
        }
        if trimmed == USERS_PATH {
            return Page::Users;
        }
        let mut segments = trimmed.trim_start_matches('/').split('/');
        match (segments.next(), segments.next(), segments.next()) {
            (Some("recommendations"), Some(id), None) if is_record_id(id) => {
                Page::Recommendation(id.to_owned())
            }
            (Some("projects"), Some(id), None) if is_record_id(id) => Page::Project(id.to_owned()),
            _ => Page::NotFound,
        }
    }

    /// The section whose navigation entry is current on this page.
    pub fn section(&self) -> Option<Section> {
        match self {
            Page::Section(section) => Some(*section),
            Page::Recommendation(_) => Some(Section::Recommendations),
            Page::Project(_) => Some(Section::Projects),
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
            Page::Section(Section::Projects)
        );
        assert_eq!(
            Page::from_path("/recommendations/0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b"),
            Page::Recommendation("0193b7a0-7e2c-7c4e-9a1b-2f3d4e5f6a7b".into())
        );
        assert_eq!(
            Page::from_path("/projects/abc").section(),
            Some(Section::Projects)
        );
        assert_eq!(Page::from_path("/welcome"), Page::Welcome);
        assert_eq!(Page::from_path("/users/"), Page::Users);
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
