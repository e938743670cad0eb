//! The colour scheme: as the device says (`prefers-color-scheme`), or light
//! or dark as chosen in Settings. The choice lives in `localStorage` under
//! [`THEME_KEY`] and shows as `data-theme` on `<html>`, which the stylesheet's
//! `color-scheme` follows; `public/boot.js` sets it before the app starts, so
//! a reload does not flash the other scheme.

use crate::i18n::*;
use leptos::prelude::*;

/// Read by `public/boot.js` too: keep the two in step.
pub const THEME_KEY: &str = "tern-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(text: &str) -> Theme {
        Theme::ALL
            .into_iter()
            .find(|theme| theme.as_str() == text)
            .unwrap_or(Theme::System)
    }

    fn stored() -> Theme {
        storage()
            .and_then(|storage| storage.get_item(THEME_KEY).ok().flatten())
            .map_or(Theme::System, |text| Theme::parse(&text))
    }

    fn apply(self) {
        let storage = storage();
        let root = document().document_element();
        match self {
            Theme::System => {
                if let Some(storage) = storage {
                    let _ = storage.remove_item(THEME_KEY);
                }
                if let Some(root) = root {
                    let _ = root.remove_attribute("data-theme");
                }
            }
            chosen => {
                if let Some(storage) = storage {
                    let _ = storage.set_item(THEME_KEY, chosen.as_str());
                }
                if let Some(root) = root {
                    let _ = root.set_attribute("data-theme", chosen.as_str());
                }
            }
        }
    }
}

/// `None` where the browser refuses storage (some private modes): the choice
/// then lasts for this page only.
fn storage() -> Option<leptos::web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The Settings section that chooses the colour scheme.
#[component]
pub fn ThemeSettings() -> impl IntoView {
    let i18n = use_i18n();
    let chosen = RwSignal::new(Theme::stored());
    let label = move |theme: Theme| match theme {
        Theme::System => t_string!(i18n, theme_system),
        Theme::Light => t_string!(i18n, theme_light),
        Theme::Dark => t_string!(i18n, theme_dark),
    };
    view! {
        <section aria-labelledby="settings-theme">
            <h2 id="settings-theme">{move || t_string!(i18n, settings_theme_heading)}</h2>
            <div class="field">
                <label for="theme-select">{move || t_string!(i18n, settings_theme_label)}</label>
                <select id="theme-select" on:change=move |event| {
                    let theme = Theme::parse(&event_target_value(&event));
                    theme.apply();
                    chosen.set(theme);
                }>
                    {Theme::ALL.into_iter().map(|theme| view! {
                        <option value=theme.as_str() selected=move || chosen.get() == theme>
                            {move || label(theme)}
                        </option>
                    }).collect_view()}
                </select>
            </div>
        </section>
    }
}
