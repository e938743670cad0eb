//! A record's suggestions (`tern_domain::record::suggestions`) in the
//! comments panel: each proposed change with its author and date, the words
//! it would replace and the words it proposes, Accept and Reject for those
//! who may edit, and both versions when the passage changed since. And the
//! form for a new one, on the words selected in a long text (or at the
//! caret, to insert).
//!
//! In the `comments` module, read like the threads (`super::comments`).

use super::comments::{read_when_settled, Filter, NoteForm};
use super::discussion::{text_box, use_discussion, Passage};
use crate::i18n::*;
use crate::session::use_session;
use crate::store::{new_item_id, use_workspace};
use leptos::prelude::*;
use tern_domain::record::{Anchor, Decision, RecordId, Suggestion, SuggestionError};

type I18n = leptos_i18n::I18nContext<Locale>;

#[component]
pub fn Suggestions(id: RecordId, #[prop(into)] filter: Signal<Filter>) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let all = RwSignal::new(Vec::<Suggestion>::new());
    read_when_settled(workspace, move || {
        let read = workspace
            .with_record(id, |record| record.suggestions())
            .unwrap_or_default();
        if all.with_untracked(|known| *known != read) {
            all.set(read);
        }
    });
    let me = move || {
        session
            .identity
            .with(|identity| identity.as_ref().map(|me| me.user.0.clone()))
            .unwrap_or_default()
    };
    let visible = Memo::new(move |_| {
        let me = me();
        let mut shown: Vec<Suggestion> = all.with(|all| {
            all.iter()
                .filter(|suggestion| match filter.get() {
                    Filter::Open => suggestion.decision.is_none(),
                    Filter::Mine => suggestion.by.user == me,
                    Filter::Resolved => suggestion.decision.is_some(),
                })
                .cloned()
                .collect()
        });
        shown.sort_by(|a, b| (a.by.at, &a.id).cmp(&(b.by.at, &b.id)));
        shown
    });
    let open = move || all.with(|all| all.iter().filter(|s| s.decision.is_none()).count());
    let asked = use_discussion().map(|discussion| discussion.suggest);
    view! {
        <section class="suggestions" aria-labelledby="suggestions-heading">
            <h2 id="suggestions-heading">
                {move || t_string!(i18n, suggestions_heading)}
                " " <span class="count">{move || format!("({})", open())}</span>
            </h2>
            {move || asked.and_then(|asked| asked.get()).map(|passage| {
                let asked = asked.expect("asked is set");
                view! { <NewSuggestion id passage done=Callback::new(move |()| asked.set(None)) /> }
            })}
            <ol class="threads">
                <For each=move || visible.get() key=|suggestion| suggestion.clone() let:suggestion>
                    <SuggestionView id suggestion />
                </For>
            </ol>
        </section>
    }
}

fn error_text(i18n: I18n, error: &SuggestionError) -> String {
    match error {
        SuggestionError::NoChange => t_string!(i18n, suggestion_error_no_change).to_owned(),
        SuggestionError::TooLong { max } => {
            format!("{} {max}", t_string!(i18n, comment_error_too_long))
        }
        SuggestionError::NoSuchText | SuggestionError::NoSuchSuggestion => {
            t_string!(i18n, comment_error_gone).to_owned()
        }
        SuggestionError::Decided => t_string!(i18n, suggestion_error_decided).to_owned(),
        SuggestionError::Stale { then, now } => format!(
            "{} {} “{then}”. {} “{now}”.",
            t_string!(i18n, suggestion_stale),
            t_string!(i18n, suggestion_then),
            t_string!(i18n, suggestion_now)
        ),
    }
}

#[component]
fn NewSuggestion(id: RecordId, passage: Passage, done: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let label = if passage.start == passage.end {
        t_string!(i18n, suggestion_insert_label).to_owned()
    } else {
        format!(
            "{} “{}”",
            t_string!(i18n, suggestion_replace_label),
            passage.quote
        )
    };
    let (initial, back_to) = (passage.quote.clone(), Some(passage.path.clone()));
    let submit = Callback::new(move |replacement: String| {
        let key = new_item_id().0[..12].to_owned();
        match workspace.discuss(id, |record, me| {
            record.suggest(
                &passage.path,
                (passage.start, passage.end),
                &key,
                me,
                &replacement,
            )
        }) {
            Some(Err(problem)) => Err(error_text(i18n, &problem)),
            _ => Ok(()),
        }
    });
    view! {
        <NoteForm name=t_string!(i18n, suggestion_new).to_owned() dom_id="new-suggestion-text" label
            initial button=t_string!(i18n, suggestion_post).to_owned() submit done back_to />
    }
}

#[component]
fn SuggestionView(id: RecordId, suggestion: Suggestion) -> impl IntoView {
    let i18n = use_i18n();
    let workspace = use_workspace();
    let session = use_session();
    let error = RwSignal::new(None::<String>);
    let key = suggestion.id.clone();
    let decide = move |accept: bool| {
        let key = key.clone();
        move |_| {
            let outcome = workspace.discuss(id, |record, me| {
                if accept {
                    record.accept_suggestion(&key, me)
                } else {
                    record.reject_suggestion(&key, me)
                }
            });
            error.set(match outcome {
                Some(Err(problem)) => Some(error_text(i18n, &problem)),
                _ => None,
            });
        }
    };
    let decision = suggestion.decision.clone().map(|decision| {
        let (label, mark) = match decision {
            Decision::Accepted(mark) => (t_string!(i18n, suggestion_accepted_by), mark),
            Decision::Rejected(mark) => (t_string!(i18n, suggestion_rejected_by), mark),
        };
        view! {
            <p class="hint thread-resolved">
                {format!("{label} {} · ", mark.name)}
                <time datetime=crate::dates::iso(mark.at)>{crate::dates::date_time(i18n, mark.at)}</time>
            </p>
        }
    });
    let stale = (suggestion.decision.is_none() && !suggestion.applies()).then(|| {
        let now = match &suggestion.anchor {
            Anchor::Text { text, .. } => Some(text.clone()),
            _ => None,
        };
        view! {
            <p class="hint thread-note">
                {t_string!(i18n, suggestion_stale)}
                {now.map(|now| format!(" {} “{now}”.", t_string!(i18n, suggestion_now)))}
            </p>
        }
    });
    let show = suggestion
        .path
        .clone()
        .zip(suggestion.point)
        .map(|(path, point)| {
            let end = match suggestion.anchor {
                Anchor::Text { end, .. } => end,
                _ => point,
            };
            move |_| {
                if let Some(element) = text_box(&path) {
                    let _ = element.focus();
                    let _ = element.set_selection_range(point, end);
                }
            }
        });
    let undecided = suggestion.decision.is_none();
    view! {
        <li class="thread suggestion" class:resolved=!undecided>
            <p class="comment-by">
                <strong>{suggestion.by.name.clone()}</strong> " · "
                <time datetime=crate::dates::iso(suggestion.by.at)>{crate::dates::date_time(i18n, suggestion.by.at)}</time>
            </p>
            <p class="suggestion-change">
                {(!suggestion.original.is_empty()).then(|| view! { <del>{suggestion.original.clone()}</del> " " })}
                {(!suggestion.replacement.is_empty()).then(|| view! { <ins>{suggestion.replacement.clone()}</ins> })}
            </p>
            {stale}
            {decision}
            <p class="field-error" role="alert">{move || error.get()}</p>
            <p class="actions thread-actions">
                {show.map(|show| view! {
                    <button type="button" class="quiet" on:click=show>{t_string!(i18n, comment_show_in_text)}</button>
                })}
                <Show when=move || undecided && session.can_edit()>
                    <button type="button" on:click=decide(true)>{t_string!(i18n, suggestion_accept)}</button>
                    <button type="button" class="quiet" on:click=decide(false)>{t_string!(i18n, suggestion_reject)}</button>
                </Show>
            </p>
        </li>
    }
}
