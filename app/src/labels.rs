//! The record schema's words in the user's language: kinds, fields, choices,
//! item lists, backlinks and refusal codes, looked up at run time by key in
//! tables `build.rs` compiles from `locales/schema/<lang>.json`.
//!
//! Keys follow the declaration: `kind.<tag>[.plural|.new|…]`, a field's label
//! `<tag>.<list>.<field>` falling back to `field.<field>`, `choice.<list
//! name>.<value>`, `backlink.<source tag>.<field>`, `error.<code>`,
//! `denied.<code>`. A missing key falls back to English, then to the key
//! itself; a test checks that every key the schema needs exists in every
//! locale.

use crate::i18n::*;
use crate::routes::Section;
use tern_domain::auth::Role;
use tern_domain::record::schema::Choices;
use tern_domain::record::{FieldError, FieldPath, RecordKind};
use tern_domain::region::MEMBERS;

mod tables {
    include!(concat!(env!("OUT_DIR"), "/schema_labels.rs"));
}

type I18n = leptos_i18n::I18nContext<Locale>;

/// A section's name in the navigation.
pub fn section_label(i18n: I18n, section: Section) -> &'static str {
    match section {
        Section::Overview => t_string!(i18n, nav_overview),
        Section::Recommendations => t_string!(i18n, nav_recommendations),
        Section::Projects => t_string!(i18n, nav_projects),
        Section::Consultations => t_string!(i18n, nav_consultations),
        Section::GoodPractices => t_string!(i18n, nav_good_practices),
        Section::Network => t_string!(i18n, nav_network),
        Section::Sync => t_string!(i18n, nav_sync),
        Section::Settings => t_string!(i18n, nav_settings),
    }
}

/// A role's name.
pub fn role_label(i18n: I18n, role: Role) -> &'static str {
    match role {
        Role::Secretariat => t_string!(i18n, role_secretariat),
        Role::Member => t_string!(i18n, role_member),
        Role::Contributor => t_string!(i18n, role_contributor),
        Role::Observer => t_string!(i18n, role_observer),
    }
}

/// The text for `key` in `locale`, else in English.
pub fn lookup(locale: &str, key: &str) -> Option<&'static str> {
    let index = tables::KEYS.binary_search(&key).ok()?;
    let find = |locale: &str| {
        let (_, texts) = tables::TEXTS.iter().find(|(name, _)| *name == locale)?;
        texts.get(index).copied().filter(|text| !text.is_empty())
    };
    find(locale).or_else(|| find("en"))
}

/// Whether `locale` has its own text for `key`.
#[cfg(test)]
fn has(locale: &str, key: &str) -> bool {
    let Ok(index) = tables::KEYS.binary_search(&key) else {
        return false;
    };
    tables::TEXTS
        .iter()
        .find(|(name, _)| *name == locale)
        .is_some_and(|(_, texts)| !texts[index].is_empty())
}

/// The locales the tables hold.
#[cfg(test)]
pub fn locales() -> impl Iterator<Item = &'static str> {
    tables::TEXTS.iter().map(|(name, _)| *name)
}

/// The current language (tracked, so labels follow a change of language).
fn locale(i18n: I18n) -> &'static str {
    i18n.get_locale().as_str()
}

/// The first of `keys` that has a text, else the last key as it is.
fn first(i18n: I18n, keys: &[String]) -> String {
    let locale = locale(i18n);
    keys.iter()
        .find_map(|key| lookup(locale, key))
        .map(str::to_owned)
        .unwrap_or_else(|| keys.last().cloned().unwrap_or_default())
}

/// `kind.<tag>` and its variants: `""` (the kind), `plural`, `new`, `empty`,
/// `empty_body`, `not_here`.
pub fn kind(i18n: I18n, kind: RecordKind, variant: &str) -> String {
    let tag = kind.as_str();
    let key = if variant.is_empty() {
        format!("kind.{tag}")
    } else {
        format!("kind.{tag}.{variant}")
    };
    first(i18n, &[key])
}

/// The key of a field within its kind, item ids left out: `sections.body`.
pub fn field_key(path: &FieldPath) -> String {
    let mut key = String::new();
    for (list, _) in &path.items {
        key.push_str(list);
        key.push('.');
    }
    key.push_str(path.field);
    key
}

/// A field's label: the kind's own word for it, else the shared one.
pub fn field(i18n: I18n, kind: RecordKind, path: &FieldPath) -> String {
    first(
        i18n,
        &[
            format!("{}.{}", kind.as_str(), field_key(path)),
            format!("field.{}", path.field),
        ],
    )
}

/// A field's hint, if its kind has one (`hint.<tag>.<field>`).
pub fn hint(i18n: I18n, kind: RecordKind, path: &FieldPath) -> Option<&'static str> {
    lookup(
        locale(i18n),
        &format!("hint.{}.{}", kind.as_str(), field_key(path)),
    )
}

/// A text about an item list: `add`, `remove`, `remove_confirm`, `empty`, `item`.
pub fn list_text(i18n: I18n, kind: RecordKind, list: &FieldPath, what: &str) -> String {
    first(
        i18n,
        &[format!("{}.{}.{what}", kind.as_str(), field_key(list))],
    )
}

/// A choice's label. Member states are named by the group's own names.
pub fn choice(i18n: I18n, choices: &Choices, value: &str) -> String {
    if choices.name == "member" {
        if let Some(member) = MEMBERS.iter().find(|member| member.code == value) {
            return member.name.to_owned();
        }
    }
    first(i18n, &[format!("choice.{}.{value}", choices.name)])
}

/// What an empty choice reads as.
pub fn choice_none(i18n: I18n, choices: &Choices) -> String {
    first(
        i18n,
        &[
            format!("choice.{}.none", choices.name),
            "choice.none".into(),
        ],
    )
}

pub fn focus_area(i18n: I18n, area: &str) -> String {
    first(i18n, &[format!("focus.{area}")])
}

/// The heading of the records that point here through `field` of `source`.
pub fn backlink(i18n: I18n, source: RecordKind, field: &str) -> String {
    lookup(
        locale(i18n),
        &format!("backlink.{}.{field}", source.as_str()),
    )
    .map(str::to_owned)
    .unwrap_or_else(|| kind(i18n, source, "plural"))
}

/// Why a field was not changed.
pub fn field_error(i18n: I18n, error: &FieldError) -> String {
    first(i18n, &[format!("error.{}", error.code())])
}

/// Why the server refused an edit, from the reason it sent: a code the app
/// says in the user's language, or (from an older server) its text as sent.
pub fn refusal(i18n: I18n, reason: &str) -> String {
    let Some(denied) = tern_domain::auth::Denied::from_wire(reason) else {
        return reason.to_owned();
    };
    let text = first(i18n, &[format!("denied.{}", denied.code())]);
    match denied {
        tern_domain::auth::Denied::SecretariatField(field)
        | tern_domain::auth::Denied::MembersOnly(field)
        | tern_domain::auth::Denied::TooLarge(field) => format!("{text} {field}"),
        tern_domain::auth::Denied::NotYourState(code) => {
            let name = MEMBERS
                .iter()
                .find(|member| member.code == code)
                .map_or(code.as_str(), |member| member.name);
            format!("{text} {name}")
        }
        _ => text,
    }
}

/// Tags in the order a reader expects, without regard to case (records keep
/// them by code point; see `canonical_set` in the domain).
pub fn reading_order(mut tags: Vec<String>) -> Vec<String> {
    tags.sort_by_cached_key(|tag| (tag.to_lowercase(), tag.clone()));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use tern_domain::record::schema::{FieldDef, FieldType, SetOf};

    /// Every key the schema needs, in every locale.
    fn needed() -> Vec<String> {
        fn fields(kind: RecordKind, prefix: &str, defs: &[FieldDef], keys: &mut Vec<Vec<String>>) {
            for def in defs {
                let own = format!("{}.{prefix}{}", kind.as_str(), def.key);
                keys.push(vec![own.clone(), format!("field.{}", def.key)]);
                match def.ty {
                    FieldType::Choice(choices)
                    | FieldType::PerMember(choices)
                    | FieldType::Set(SetOf::Choices(choices))
                        if choices.name != "member" =>
                    {
                        for option in choices.options {
                            keys.push(vec![format!("choice.{}.{option}", choices.name)]);
                        }
                    }
                    FieldType::Items(items) => {
                        for what in ["add", "remove", "remove_confirm", "empty", "item"] {
                            keys.push(vec![format!("{own}.{what}")]);
                        }
                        fields(kind, &format!("{prefix}{}.", def.key), items.fields, keys);
                    }
                    _ => {}
                }
            }
        }
        let mut keys: Vec<Vec<String>> = Vec::new();
        for kind in RecordKind::ALL {
            for variant in ["", ".plural", ".new", ".empty", ".empty_body", ".not_here"] {
                keys.push(vec![format!("kind.{}{variant}", kind.as_str())]);
            }
            fields(kind, "", kind.def().fields, &mut keys);
        }
        for area in tern_domain::region::FocusArea::ALL {
            keys.push(vec![format!("focus.{}", area.as_str())]);
        }
        keys.push(vec!["choice.none".into()]);
        let mut missing = Vec::new();
        for locale in locales() {
            for alternatives in &keys {
                let found = alternatives.iter().any(|key| has(locale, key));
                if !found {
                    missing.push(format!("{locale}: {}", alternatives.join(" or ")));
                }
            }
        }
        missing
    }

    #[test]
    fn every_locale_labels_every_kind_field_and_choice() {
        assert!(locales().count() >= 2);
        let missing = needed();
        assert!(
            missing.is_empty(),
            "missing labels:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_locale_has_every_key_and_keys_are_sorted() {
        assert!(tables::KEYS.windows(2).all(|pair| pair[0] < pair[1]));
        for locale in locales() {
            let missing: Vec<&str> = tables::KEYS
                .iter()
                .copied()
                .filter(|key| !has(locale, key))
                .collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        }
        assert_eq!(lookup("de", "field.title"), Some("Titel"));
        assert_eq!(lookup("xx", "field.title"), Some("Title"));
        assert_eq!(lookup("en", "no.such.key"), None);
    }

    #[test]
    fn every_field_error_and_refusal_code_has_a_message() {
        use tern_domain::auth::Denied;
        let errors = [
            FieldError::NoKind,
            FieldError::UnknownField,
            FieldError::WrongEdit,
            FieldError::NotADate,
            FieldError::EndBeforeStart {
                earlier: "a",
                later: "b",
            },
            FieldError::UnknownChoice,
            FieldError::UnknownMember,
            FieldError::UnknownFocusArea,
            FieldError::NotATag,
            FieldError::WrongKind,
            FieldError::SelfReference,
            FieldError::NoSuchItem,
            FieldError::ItemExists,
            FieldError::BadItemId,
            FieldError::NotAnEmail,
            FieldError::NotAPhone,
            FieldError::NotAUrl,
            FieldError::TooLong { max: 1 },
        ];
        let denials = [
            Denied::ReadOnly,
            Denied::CannotCreate(RecordKind::Person),
            Denied::SecretariatField(String::new()),
            Denied::NotYourState(String::new()),
            Denied::MembersOnly(String::new()),
            Denied::SecretariatOnly,
            Denied::NotInvited(String::new()),
            Denied::Erased(String::new()),
            Denied::NotPersonalData(RecordKind::Project),
            Denied::TooLarge(String::new()),
            Denied::ForeignStamp,
            Denied::NotYourComment,
            Denied::Decided,
        ];
        for locale in locales() {
            for error in &errors {
                assert!(
                    lookup(locale, &format!("error.{}", error.code())).is_some(),
                    "{locale}: {error:?}"
                );
            }
            for denied in &denials {
                assert!(
                    lookup(locale, &format!("denied.{}", denied.code())).is_some(),
                    "{locale}: {denied:?}"
                );
            }
        }
    }

    #[test]
    fn tags_read_without_regard_to_case() {
        let tags = ["barnahus", "Advocacy", "Child", "advocacy"].map(String::from);
        assert_eq!(
            reading_order(tags.to_vec()),
            ["Advocacy", "advocacy", "barnahus", "Child"]
        );
    }
}
